// Embeddings as routers and retrieval use them: one text through a Model's
// embed(), and vectors scaled to unit length so that a dot product is the
// cosine similarity.
#pragma once

#include <string>
#include <vector>

#include "api/model.h"

namespace tandem::compose {

// The embedding of one text by `embedder` (Model::embed). Throws
// tandem::Error "<who>: the embedder returned no embedding" when it returns
// other than one vector; the embedder's own errors propagate.
std::vector<float> embed_one(const api::Model& embedder, const std::string& text, const std::string& who);

// The vector scaled to unit length (a zero vector unchanged): what router
// tables and retrieval indexes store, and what every learner compares a
// prompt's embedding with. The norm is summed in double.
std::vector<float> normalised(std::vector<float> v);

}  // namespace tandem::compose
