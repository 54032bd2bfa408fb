// A parser for server-sent events (the text/event-stream format of the HTML
// standard), fed the body of a response in whatever pieces the network
// delivers: an event, a line, even a CRLF pair may be split across reads.
//
// Lines end in LF, CRLF or a lone CR. A line starting with ':' is a comment; a
// line "field: value" sets a field (one space after the colon is dropped); a
// blank line dispatches the event. Several "data" lines join with '\n'. Only
// "event", "data" and "id" are kept ("retry" and unknown fields are ignored,
// as the standard says). An event with no data line is not dispatched.
//
// Not thread-safe: one parser per stream.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace tandem::remote {

struct SseEvent {
  std::string event;  // the "event" field; empty means "message"
  std::string data;   // the data lines joined with '\n'
  std::string id;
};

class SseParser {
 public:
  // Receives each complete event; returning false stops the parse (feed()
  // then returns false and the parser must not be fed again).
  using EventHandler = std::function<bool(const SseEvent&)>;

  // `max_event_bytes` bounds the bytes buffered for one line or event; more
  // throws tandem::Error (a stream that never ends a line cannot grow memory
  // without bound).
  explicit SseParser(EventHandler on_event, size_t max_event_bytes = 16u << 20);

  // Parses the next piece of the stream. Returns false when the handler asked
  // to stop.
  bool feed(std::string_view chunk);

  // True when the parser holds no partial line or undispatched event: the
  // stream so far ended on an event boundary.
  bool at_boundary() const { return line_.empty() && !has_data_ && !pending_cr_; }

 private:
  bool end_line();  // processes line_; false when the handler stopped

  EventHandler on_event_;
  size_t max_event_bytes_;
  std::string line_;       // the current, unfinished line
  bool pending_cr_ = false;  // the last byte was CR: a following LF belongs to it
  SseEvent event_;         // the event being assembled
  bool has_data_ = false;  // event_ has at least one data line
};

}  // namespace tandem::remote
