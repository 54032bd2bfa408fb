#include "api/model.h"

#include "util/error.h"

namespace tandem::api {

Usage& Usage::operator+=(const Usage& o) {
  prompt_tokens += o.prompt_tokens;
  completion_tokens += o.completion_tokens;
  seconds += o.seconds;
  cost += o.cost;
  return *this;
}

Usage Response::total() const {
  Usage sum;
  for (const auto& [name, u] : usage) sum += u;
  return sum;
}

double Price::cost(const Usage& u) const {
  return (static_cast<double>(u.prompt_tokens) * input_per_mtok + static_cast<double>(u.completion_tokens) * output_per_mtok) /
             1e6 +
         u.seconds * per_second;
}

Score Model::score(std::string_view, std::string_view) const {
  throw Error("model '" + name() + "' cannot score a continuation (it gives no prompt logprobs)");
}

std::vector<std::vector<float>> Model::embed(std::span<const std::string>) const {
  throw Error("model '" + name() + "' gives no embeddings");
}

}  // namespace tandem::api
