#include "compose/capabilities.h"

#include <algorithm>

namespace tandem::compose {

api::Capabilities common_capabilities(std::span<const std::shared_ptr<const api::Model>> models) {
  api::Capabilities c;
  if (models.empty()) return c;
  c.logprobs = c.chat = true;
  c.vocabulary = models[0]->capabilities().vocabulary;
  bool context_known = true;
  for (const auto& m : models) {
    const api::Capabilities s = m->capabilities();
    c.logprobs = c.logprobs && s.logprobs;
    c.chat = c.chat && s.chat;
    if (s.vocabulary != c.vocabulary) c.vocabulary.clear();
    if (s.context <= 0) context_known = false;
    c.context = c.context == 0 ? s.context : std::min(c.context, s.context);
  }
  if (!context_known) c.context = 0;
  return c;
}

}  // namespace tandem::compose
