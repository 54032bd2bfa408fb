// A Response as one JSON object: what `tandem run --json` prints per prompt
// and what eval records store.
//   {"text": ..., "finish_reason": ..., "answered_by": ...,
//    "usage": {"<model>": {"prompt_tokens", "completion_tokens", "seconds", "cost"}, ...},
//    "cost": <sum>, "latency_ms": ...,
//    "trace": [{"model", "signal", "value", "threshold", "decision"[, "text"]}, ...],
//    "logprobs": [{"token", "logprob", "top": [[token, logprob], ...]}, ...]}   (only when present)
// A trace step of a plain call (no signal) has signal, value and threshold
// null; "text" is there only for a step that passed a message on (a stack's
// intermediate step, compose/stack.h); non-finite numbers (a threshold of -inf) are written as strings
// "-inf", "inf" or "nan", so the line stays valid JSON without losing them.
#pragma once

#include <nlohmann/json.hpp>

#include "api/types.h"

namespace tandem::api {

nlohmann::ordered_json to_json(const Response& response);

}  // namespace tandem::api
