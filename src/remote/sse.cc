#include "remote/sse.h"

#include <utility>

#include "util/error.h"

namespace tandem::remote {

SseParser::SseParser(EventHandler on_event, size_t max_event_bytes)
    : on_event_(std::move(on_event)), max_event_bytes_(max_event_bytes) {}

bool SseParser::feed(std::string_view chunk) {
  for (const char c : chunk) {
    if (pending_cr_) {
      pending_cr_ = false;
      if (c == '\n') continue;  // the LF of a CRLF pair split across reads or not
    }
    if (c == '\r' || c == '\n') {
      pending_cr_ = c == '\r';
      if (!end_line()) return false;
      continue;
    }
    line_ += c;
    if (line_.size() + event_.data.size() > max_event_bytes_) {
      throw Error("server-sent event longer than " + std::to_string(max_event_bytes_) + " bytes");
    }
  }
  return true;
}

bool SseParser::end_line() {
  std::string line;
  line.swap(line_);
  if (line.empty()) {  // blank line: dispatch
    if (!has_data_) {
      event_ = {};
      return true;
    }
    SseEvent event;
    std::swap(event, event_);
    has_data_ = false;
    return on_event_(event);
  }
  if (line[0] == ':') return true;  // comment (often a keep-alive)
  const size_t colon = line.find(':');
  std::string_view field = line;
  std::string_view value;
  if (colon != std::string::npos) {
    field = std::string_view(line).substr(0, colon);
    value = std::string_view(line).substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) event_.data += '\n';
    event_.data += value;
    has_data_ = true;
  } else if (field == "event") {
    event_.event = value;
  } else if (field == "id") {
    event_.id = value;
  }
  return true;
}

}  // namespace tandem::remote
