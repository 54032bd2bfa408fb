#include "remote/sinks.h"

#include "util/error.h"

namespace tandem::remote {

bool JsonSink::body(std::string_view piece) {
  body_ += piece;
  return true;
}

void JsonSink::end() {
  try {
    json_ = nlohmann::json::parse(body_);
  } catch (const nlohmann::json::exception& e) {
    throw Error("malformed JSON in the response (" + std::to_string(body_.size()) + " bytes): " + e.what());
  }
}

StreamSink::StreamSink(Api api, const api::StreamCallback& on_text)
    : api_(api), on_text_(on_text), parser_([this](const SseEvent& e) { return on_event(e); }) {}

void StreamSink::begin() {
  parser_ = SseParser([this](const SseEvent& e) { return on_event(e); });
  answer_ = {};
  done_ = false;
  cancelled_ = false;
}

bool StreamSink::body(std::string_view piece) {
  if (done_) return true;  // anything after [DONE] is ignored
  try {
    return parser_.feed(piece);
  } catch (const Error& e) {
    error_ = e.what();
  }
  return false;
}

bool StreamSink::on_event(const SseEvent& event) {
  if (done_) return true;
  if (event.data == "[DONE]") {
    done_ = true;
    return true;
  }
  nlohmann::json chunk;
  try {
    chunk = nlohmann::json::parse(event.data);
  } catch (const nlohmann::json::exception& e) {
    throw Error("malformed JSON in a stream event: " + std::string(e.what()));
  }
  const std::string delta = parse_stream_chunk(chunk, api_, answer_);
  if (delta.empty()) return true;
  bool more = true;
  try {
    more = on_text_(delta);
  } catch (...) {
    callback_exception = std::current_exception();
    return false;
  }
  if (!more) cancelled_ = true;
  return more;
}

void StreamSink::end() {
  if (!done_) {
    throw Error("the stream ended without [DONE] (" + std::to_string(answer_.text.size()) +
                " bytes of text received): the answer may be cut short");
  }
}

}  // namespace tandem::remote
