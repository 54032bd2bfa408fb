// The router's second learner: one L2-regularised logistic regression per
// candidate, predicting whether it answers a prompt correctly from the
// prompt's embedding (the table's, L2-normalised):
//
//   p_m(e) = sigmoid(w_m . e + v_m * L + b_m)
//
// where L = log(1 + prompt bytes) / 8 is the length feature, used when the
// table has lengths (router_table.h; tables without them have no v_m).
// fitted by minimising the mean log-loss over the training rows plus
// (l2 / 2) |w_m|^2 (the bias is not penalised), with Newton's method on
// centred embeddings (the Hessian is dim + 1 square, solved by Cholesky; a
// backtracking line search keeps every step downhill). Being unpenalised, the
// bias makes the mean prediction on the training rows equal their accuracy.
// Several candidates can be right on one prompt, so the candidates are fitted
// independently (one-vs-rest) rather than by one softmax over them; the
// router's score (compose/router_table.h route_scores) then trades each p_m
// against its cost, as with the kNN estimate.
//
// Cost: per Newton step O(n dim^2 + dim^3) per candidate; at 300 rows and the
// tiny embedder's 96 dimensions a fit of three candidates takes milliseconds.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "compose/router_table.h"

namespace tandem::compose {

// The length feature of a prompt of `bytes` bytes (>= 0).
double length_feature(double bytes);

// Weights of every candidate, each table.dim values, then the length's when
// the table has lengths, then the bias, fitted on
// the table's rows `rows` (all rows when empty). l2 > 0. Throws tandem::Error
// for l2 <= 0 or not finite, or an empty table.
std::vector<std::vector<double>> fit_logistic(const RouterTable& table, double l2, std::span<const size_t> rows = {});

// p_m for an embedding (normalised here, as the table's were) of a prompt of
// `length` bytes. Throws tandem::Error for an embedding whose dimension does
// not fit the weights, or weights with a length feature and a length < 0.
std::vector<double> predict_logistic(const std::vector<std::vector<double>>& weights, std::vector<float> embedding,
                                     double length);

}  // namespace tandem::compose
