// A router's training table: for each training prompt, its embedding (by the
// router's embedder model) and whether each candidate model answered it
// correctly, plus each candidate's mean cost per prompt. Written by
// `tandem train-router` from eval records, read by compose::Router
// (compose/router.h), stored as JSON:
//
//   {"format": "tandem-router", "version": 1,
//    "embedder": "tiny", "task": "arith-d2",
//    "models": ["tiny", "small", "base"],
//    "cost":   [0.0001, 0.0003, 0.0009],          // mean cost per prompt, >= 0
//    "examples": [{"embedding": [0.1, ...], "correct": [0, 1, 1], "length": 212}, ...],
//    "learner": "logistic", "weights": [[w_1, ..., w_dim, bias], ...]}   // optional
//
// Two learners estimate each candidate's accuracy on a new prompt: "knn"
// (the default, below) and "logistic" (compose/router_logistic.h: weights
// fitted by `tandem train-router --learner logistic`, one row per model).
// "length" (optional, on every example or none) is the byte length of the
// prompt's routing text; the logistic learner uses it as a feature beside
// the embedding (kNN does not).
//
// The prediction is a k-nearest-neighbour estimate of each candidate's
// accuracy on a new prompt (as RouteLLM's similarity-weighted ranking and
// Hybrid LLM's quality-gap predictors, reduced to a table lookup): the k
// training prompts of highest cosine similarity vote with weight
// max(similarity, 0), and the candidate's accuracy over the whole table
// enters as a prior of weight 1, so a prompt far from every training prompt
// gets the global accuracies:
//
//   p_m = (sum_j w_j correct_jm + acc_m) / (sum_j w_j + 1)
//
// Parsing is strict (the file is untrusted input; fuzz/router_table_fuzz.cc):
// every key known and of its type, every embedding of one finite dimension,
// correct values 0 or 1, at least one example and one model. Errors are
// tandem::Error naming the file and the offending place.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "compose/embedding.h"  // normalised()

namespace tandem::compose {

struct RouterTable {
  std::string embedder;             // the model whose embed() made the embeddings
  std::string task;                 // what it was trained on (informational)
  std::vector<std::string> models;  // the candidates, in order
  std::vector<double> cost;         // per model: mean cost per prompt
  size_t dim = 0;                   // embedding dimension
  // Per example: dim floats, L2-normalised (normalised(); parse does it, and
  // whoever fills a table in memory must) and models.size() 0/1 values.
  std::vector<std::vector<float>> embeddings;
  std::vector<std::vector<int>> correct;
  std::vector<double> lengths;      // per example: prompt bytes; empty when the table has none
  std::string learner = "knn";      // "knn" or "logistic"
  // logistic: per model dim weights, then one for the length feature when
  // the table has lengths (compose/router_logistic.h), then the bias.
  std::vector<std::vector<double>> weights;

  // Each model's accuracy over the whole table.
  std::vector<double> accuracy() const;
};

// Parses the JSON text of a table; `name` (a file name) prefixes errors.
RouterTable parse_router_table(std::string_view text, const std::string& name);
// Reads and parses a table file. Throws tandem::Error naming it.
RouterTable load_router_table(const std::string& path);
// The JSON text of a table (parse_router_table reads it back).
std::string router_table_json(const RouterTable& table);

// The estimated accuracy of each model on a prompt with this embedding (see
// the top of this file); k >= 1 neighbours (all when k exceeds the table).
// `leave_out`: an example of the table ignored, neighbours and prior alike
// (leave-one-out estimates); none when >= the table's size.
// Throws tandem::Error when the embedding's dimension is not the table's.
std::vector<double> predict_accuracy(const RouterTable& table, std::vector<float> embedding, size_t k,
                                     size_t leave_out = static_cast<size_t>(-1));

// The table's learner's estimate for a prompt of `length` bytes with this
// embedding: predict_accuracy (knn, k neighbours; length unused) or
// predict_logistic over its weights (k unused).
std::vector<double> predict(const RouterTable& table, std::vector<float> embedding, size_t k, double length);

// Example i's prompt length in bytes; -1 when the table has no lengths.
double example_length(const RouterTable& table, size_t i);

// Each model's routing score p_m - cost_weight * cost_m / max cost (the cost
// term 0 when every cost is 0).
std::vector<double> route_scores(const RouterTable& table, const std::vector<double>& predicted, double cost_weight);

// The models in the order a router prefers them (compose/router.h): by
// route_scores, highest first; ties to the cheaper, then the earlier model.
std::vector<size_t> route_order(const RouterTable& table, const std::vector<double>& predicted, double cost_weight);

// A router's quality and cost on its own table, each example routed by the
// others (leave-one-out): what `tandem train-router` prints per cost_weight.
struct RouteEstimate {
  double accuracy = 0.0;     // share of examples the chosen model got right
  double mean_cost = 0.0;    // the chosen model's mean cost
  std::vector<double> share; // per model: share of examples routed to it
};
RouteEstimate leave_one_out(const RouterTable& table, size_t k, double cost_weight);

// Every example's estimate by a learner that did not see it: leave-one-out
// for "knn" (k neighbours), `folds`-fold cross-validation for "logistic"
// (example i in fold i % folds; refitted with `l2` per fold). One row per
// example, one value per model.
std::vector<std::vector<double>> held_out_predictions(const RouterTable& table, const std::string& learner, size_t k,
                                                      double l2, size_t folds = 10);
// The knob for a target share of calls to the costliest model (RouteLLM's
// calibration): the smallest cost_weight on the grid 0, 0.005, ..., 10 at
// which the table's own examples, each estimated without itself (knn:
// leave-one-out; logistic: the table's weights), send at most `share` of
// them to the costliest model; 10 when none does. Throws tandem::Error for a
// share outside [0, 1].
double cost_weight_for_share(const RouterTable& table, size_t k, double share);

// The routes those estimates give at `cost_weight` (each example to its first
// model of route_order), scored against the table's labels and costs.
RouteEstimate route_estimate(const RouterTable& table, const std::vector<std::vector<double>>& predictions,
                             double cost_weight);

}  // namespace tandem::compose
