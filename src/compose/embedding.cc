#include "compose/embedding.h"

#include <cmath>
#include <span>

#include "util/error.h"

namespace tandem::compose {

std::vector<float> embed_one(const api::Model& embedder, const std::string& text, const std::string& who) {
  std::vector<std::vector<float>> e = embedder.embed(std::span<const std::string>(&text, 1));
  if (e.size() != 1) throw Error(who + ": the embedder returned no embedding");
  return std::move(e[0]);
}

std::vector<float> normalised(std::vector<float> v) {
  double norm = 0.0;
  for (float x : v) norm += static_cast<double>(x) * x;
  norm = std::sqrt(norm);
  if (norm > 0.0)
    for (float& x : v) x = static_cast<float>(x / norm);
  return v;
}

}  // namespace tandem::compose
