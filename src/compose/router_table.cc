#include "compose/router_table.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "compose/router_logistic.h"
#include "util/error.h"

namespace tandem::compose {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& name, const std::string& what) {
  throw Error(name + ": router table: " + what);
}

// A string from the file, quoted for a one-line message: JSON escapes for
// quotes and control characters, invalid UTF-8 replaced.
std::string quoted(const std::string& text) { return json(text).dump(-1, ' ', false, json::error_handler_t::replace); }

const json& need(const json& j, const char* key, const std::string& name) {
  const auto it = j.find(key);
  if (it == j.end()) fail(name, std::string("missing key '") + key + "'");
  return *it;
}

double finite_number(const json& v, const std::string& where, const std::string& name) {
  if (!v.is_number()) fail(name, where + " must be a number, got " + std::string(v.type_name()));
  const double d = v.get<double>();
  if (!std::isfinite(d) || std::abs(d) > 3.0e38) fail(name, where + " must be a finite number");
  return d;
}

std::vector<std::string> model_names(const json& j, const std::string& name) {
  if (!j.is_array() || j.empty()) fail(name, "'models' must be a non-empty list of names");
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const json& m : j) {
    if (!m.is_string() || m.get<std::string>().empty()) fail(name, "'models' must hold non-empty strings");
    if (!seen.insert(m.get<std::string>()).second) fail(name, "model " + quoted(m.get<std::string>()) + " is listed twice");
    out.push_back(m.get<std::string>());
  }
  return out;
}

// One example: its embedding (normalised; the dimension fixed by the first)
// and its 0/1 row.
void parse_example(const json& e, size_t index, RouterTable& t, const std::string& name) {
  const std::string where = "examples[" + std::to_string(index) + "]";
  if (!e.is_object()) fail(name, where + " must be an object");
  for (const auto& [key, v] : e.items())
    if (key != "embedding" && key != "correct" && key != "length") fail(name, where + ": unknown key " + quoted(key));
  const json& emb = need(e, "embedding", name);
  if (!emb.is_array() || emb.empty()) fail(name, where + ".embedding must be a non-empty list of numbers");
  if (t.dim == 0) t.dim = emb.size();
  if (emb.size() != t.dim)
    fail(name, where + ".embedding has " + std::to_string(emb.size()) + " values, the first had " + std::to_string(t.dim));
  std::vector<float> v;
  v.reserve(t.dim);
  for (const json& x : emb) v.push_back(static_cast<float>(finite_number(x, where + ".embedding", name)));
  const json& c = need(e, "correct", name);
  if (!c.is_array() || c.size() != t.models.size())
    fail(name, where + ".correct must list one 0 or 1 per model (" + std::to_string(t.models.size()) + ")");
  std::vector<int> row;
  for (const json& x : c) {
    if (!x.is_number_integer() || (x.get<int64_t>() != 0 && x.get<int64_t>() != 1))
      fail(name, where + ".correct values must be 0 or 1");
    row.push_back(static_cast<int>(x.get<int64_t>()));
  }
  t.embeddings.push_back(normalised(std::move(v)));
  const auto length = e.find("length");
  if ((length != e.end()) != (index == 0 ? length != e.end() : !t.lengths.empty()))
    fail(name, where + ": 'length' must be given on every example or on none");
  if (length != e.end()) {
    const double n = finite_number(*length, where + ".length", name);
    if (n < 0) fail(name, where + ".length must be >= 0");
    t.lengths.push_back(n);
  }
  t.correct.push_back(std::move(row));
}

// A prompt's embedding must have the table's dimension (else it comes from
// another embedder).
void check_dimension(const RouterTable& t, const std::vector<float>& e) {
  if (e.size() != t.dim)
    throw Error("router table: an embedding of dimension " + std::to_string(e.size()) + ", the table's is " +
                std::to_string(t.dim) + " (was it trained with embedder " + quoted(t.embedder) + "?)");
}

// "learner" and, for "logistic", one row of dim + 1 finite weights per model.
void parse_learner(const json& j, RouterTable& t, const std::string& name) {
  if (const auto it = j.find("learner"); it != j.end()) {
    if (*it != "knn" && *it != "logistic") fail(name, "'learner' must be \"knn\" or \"logistic\"");
    t.learner = it->get<std::string>();
  }
  const auto w = j.find("weights");
  if (t.learner == "knn") {
    if (w != j.end()) fail(name, "'weights' belong to the logistic learner; this table's learner is knn");
    return;
  }
  if (w == j.end()) fail(name, "the logistic learner needs 'weights' (write them with `tandem train-router --learner logistic`)");
  if (!w->is_array() || w->size() != t.models.size()) fail(name, "'weights' must hold one list per model");
  for (size_t m = 0; m < w->size(); ++m) {
    const json& row = (*w)[m];
    const std::string where = "weights[" + std::to_string(m) + "]";
    const size_t want = t.dim + (t.lengths.empty() ? 1 : 2);
    if (!row.is_array() || row.size() != want)
      fail(name, where + " must hold " + std::to_string(want) + " numbers (the embedding's dimension" +
                     (t.lengths.empty() ? "" : ", the length's") + ", then the bias)");
    std::vector<double> v;
    for (const json& x : row) v.push_back(finite_number(x, where, name));
    t.weights.push_back(std::move(v));
  }
}

}  // namespace

std::vector<double> RouterTable::accuracy() const {
  std::vector<double> acc(models.size(), 0.0);
  for (const auto& row : correct)
    for (size_t m = 0; m < row.size(); ++m) acc[m] += row[m];
  for (double& a : acc) a /= correct.empty() ? 1.0 : static_cast<double>(correct.size());
  return acc;
}

RouterTable parse_router_table(std::string_view text, const std::string& name) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    fail(name, std::string("not JSON (") + e.what() + ")");
  }
  if (!j.is_object()) fail(name, "the file must hold a JSON object");
  static const std::set<std::string> kKeys = {"format", "version", "embedder", "task", "models",
                                              "cost",   "examples", "learner", "weights"};
  for (const auto& [key, v] : j.items())
    if (!kKeys.count(key)) fail(name, "unknown key " + quoted(key));
  const json& format = need(j, "format", name);
  if (format != "tandem-router") fail(name, "'format' must be \"tandem-router\"");
  const json& version = need(j, "version", name);
  if (!version.is_number_integer() || version.get<int64_t>() != 1) fail(name, "'version' must be 1");
  RouterTable t;
  const json& embedder = need(j, "embedder", name);
  if (!embedder.is_string() || embedder.get<std::string>().empty()) fail(name, "'embedder' must be a model name");
  t.embedder = embedder.get<std::string>();
  if (const auto it = j.find("task"); it != j.end()) {
    if (!it->is_string()) fail(name, "'task' must be a string");
    t.task = it->get<std::string>();
  }
  t.models = model_names(need(j, "models", name), name);
  const json& cost = need(j, "cost", name);
  if (!cost.is_array() || cost.size() != t.models.size()) fail(name, "'cost' must list one number per model");
  for (const json& c : cost) {
    const double d = finite_number(c, "'cost'", name);
    if (d < 0.0) fail(name, "'cost' values must be >= 0");
    t.cost.push_back(d);
  }
  const json& examples = need(j, "examples", name);
  if (!examples.is_array() || examples.empty()) fail(name, "'examples' must be a non-empty list");
  for (size_t i = 0; i < examples.size(); ++i) parse_example(examples[i], i, t, name);
  parse_learner(j, t, name);
  return t;
}

RouterTable load_router_table(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot read the router table (write one with `tandem train-router`)");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_router_table(text.str(), path);
}

std::string router_table_json(const RouterTable& t) {
  json j = {{"format", "tandem-router"}, {"version", 1},   {"embedder", t.embedder}, {"task", t.task},
            {"models", t.models},        {"cost", t.cost}, {"examples", json::array()}};
  for (size_t i = 0; i < t.embeddings.size(); ++i) {
    j["examples"].push_back({{"embedding", t.embeddings[i]}, {"correct", t.correct[i]}});
    if (!t.lengths.empty()) j["examples"].back()["length"] = t.lengths[i];
  }
  if (t.learner != "knn") {
    j["learner"] = t.learner;
    j["weights"] = t.weights;
  }
  return j.dump() + "\n";
}

std::vector<double> predict_accuracy(const RouterTable& t, std::vector<float> e, size_t k, size_t leave_out) {
  check_dimension(t, e);
  double norm = 0.0;
  for (float x : e) norm += static_cast<double>(x) * x;
  norm = std::sqrt(norm);
  std::vector<std::pair<double, size_t>> sims;
  sims.reserve(t.embeddings.size());
  for (size_t i = 0; i < t.embeddings.size(); ++i) {
    if (i == leave_out) continue;
    double dot = 0.0;
    for (size_t d = 0; d < t.dim; ++d) dot += static_cast<double>(t.embeddings[i][d]) * e[d];
    sims.push_back({norm > 0.0 ? dot / norm : 0.0, i});
  }
  const size_t n = t.models.size();
  std::vector<double> p(n, 0.0);  // the prior: accuracy over the (remaining) table, weight 1
  for (const auto& [sim, i] : sims)
    for (size_t m = 0; m < n; ++m) p[m] += t.correct[i][m];
  for (double& x : p) x /= sims.empty() ? 1.0 : static_cast<double>(sims.size());
  if (sims.empty()) return p;
  k = std::clamp<size_t>(k, 1, sims.size());
  // Highest similarity first; ties to the earlier example (deterministic).
  std::partial_sort(sims.begin(), sims.begin() + static_cast<std::ptrdiff_t>(k), sims.end(),
                    [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  double weight = 1.0;
  for (size_t j = 0; j < k; ++j) {
    const double w = std::max(sims[j].first, 0.0);
    weight += w;
    for (size_t m = 0; m < n; ++m) p[m] += w * t.correct[sims[j].second][m];
  }
  for (double& x : p) x /= weight;
  return p;
}

double example_length(const RouterTable& t, size_t i) { return t.lengths.empty() ? -1.0 : t.lengths.at(i); }

std::vector<double> route_scores(const RouterTable& t, const std::vector<double>& predicted, double cost_weight) {
  double max_cost = 0.0;
  for (double c : t.cost) max_cost = std::max(max_cost, c);
  std::vector<double> score(predicted.size());
  for (size_t m = 0; m < predicted.size(); ++m)
    score[m] = predicted[m] - (max_cost > 0.0 ? cost_weight * t.cost[m] / max_cost : 0.0);
  return score;
}

std::vector<size_t> route_order(const RouterTable& t, const std::vector<double>& predicted, double cost_weight) {
  const std::vector<double> score = route_scores(t, predicted, cost_weight);
  std::vector<size_t> order(predicted.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (score[a] != score[b]) return score[a] > score[b];
    return t.cost[a] < t.cost[b];
  });
  return order;
}

std::vector<double> predict(const RouterTable& t, std::vector<float> embedding, size_t k, double length) {
  if (t.learner == "logistic") {
    check_dimension(t, embedding);
    return predict_logistic(t.weights, std::move(embedding), length);
  }
  return predict_accuracy(t, std::move(embedding), k);
}

RouteEstimate leave_one_out(const RouterTable& t, size_t k, double cost_weight) {
  return route_estimate(t, held_out_predictions(t, "knn", k, 1.0), cost_weight);
}

std::vector<std::vector<double>> held_out_predictions(const RouterTable& t, const std::string& learner, size_t k,
                                                      double l2, size_t folds) {
  const size_t n = t.embeddings.size();
  std::vector<std::vector<double>> out(n);
  if (learner == "knn") {
    for (size_t i = 0; i < n; ++i) out[i] = predict_accuracy(t, t.embeddings[i], k, i);
    return out;
  }
  if (learner != "logistic") throw Error("router: unknown learner '" + learner + "' (use knn or logistic)");
  folds = std::clamp<size_t>(folds, 2, std::max<size_t>(n, 2));
  for (size_t f = 0; f < folds; ++f) {
    std::vector<size_t> train;
    for (size_t i = 0; i < n; ++i)
      if (i % folds != f) train.push_back(i);
    if (train.empty()) continue;
    const std::vector<std::vector<double>> w = fit_logistic(t, l2, train);
    for (size_t i = f; i < n; i += folds) out[i] = predict_logistic(w, t.embeddings[i], example_length(t, i));
  }
  for (size_t i = 0; i < n; ++i)
    if (out[i].empty()) out[i] = t.accuracy();  // a one-row table: nothing to learn from
  return out;
}

RouteEstimate route_estimate(const RouterTable& t, const std::vector<std::vector<double>>& predictions,
                             double cost_weight) {
  RouteEstimate r;
  r.share.assign(t.models.size(), 0.0);
  const double n = static_cast<double>(t.embeddings.size());
  for (size_t i = 0; i < t.embeddings.size(); ++i) {
    const size_t m = route_order(t, predictions.at(i), cost_weight).front();
    r.accuracy += t.correct[i][m] / n;
    r.mean_cost += t.cost[m] / n;
    r.share[m] += 1.0 / n;
  }
  return r;
}

double cost_weight_for_share(const RouterTable& t, size_t k, double share) {
  if (!(share >= 0.0 && share <= 1.0)) throw Error("router: a share of calls must be in [0, 1]");
  std::vector<std::vector<double>> p;
  if (t.learner == "logistic") {
    for (size_t i = 0; i < t.embeddings.size(); ++i)
      p.push_back(predict_logistic(t.weights, t.embeddings[i], example_length(t, i)));
  } else {
    p = held_out_predictions(t, "knn", k, 1.0);
  }
  const size_t costliest = static_cast<size_t>(std::max_element(t.cost.begin(), t.cost.end()) - t.cost.begin());
  for (int i = 0; i <= 2000; ++i) {
    const double w = 0.005 * i;
    if (route_estimate(t, p, w).share[costliest] <= share + 1e-12) return w;
  }
  return 10.0;
}

}  // namespace tandem::compose
