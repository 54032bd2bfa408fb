// The server-sent events parser against streams written out by hand, fed
// whole, byte by byte, and split at every position (events, lines and CRLF
// pairs torn across reads must give the same events).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "remote/sse.h"
#include "util/error.h"

namespace tandem::remote {
namespace {

std::vector<SseEvent> parse_pieces(const std::vector<std::string>& pieces) {
  std::vector<SseEvent> events;
  SseParser parser([&](const SseEvent& e) {
    events.push_back(e);
    return true;
  });
  for (const std::string& p : pieces) EXPECT_TRUE(parser.feed(p));
  return events;
}

// The stream and the events the standard says it holds (worked out by hand).
const std::string kStream =
    ": keep-alive comment\r\n"
    "data: {\"a\":1}\r\n"
    "\r\n"
    "event: update\n"
    "id: 7\n"
    "data: line one\n"
    "data:line two\n"  // no space after the colon: nothing to drop
    "data:  two spaces\n"
    "retry: 100\n"     // ignored
    "\n"
    "data\r"           // a field with no colon: empty data; lone CR ends the line
    "\r"
    "data: [DONE]\n\n";

void expect_events(const std::vector<SseEvent>& e) {
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0].data, "{\"a\":1}");
  EXPECT_EQ(e[0].event, "");
  EXPECT_EQ(e[1].event, "update");
  EXPECT_EQ(e[1].id, "7");
  EXPECT_EQ(e[1].data, "line one\nline two\n two spaces");
  EXPECT_EQ(e[2].data, "");
  EXPECT_EQ(e[3].data, "[DONE]");
}

TEST(Sse, WholeStreamGivesTheEventsOfTheStandard) { expect_events(parse_pieces({kStream})); }

TEST(Sse, ByteByByteGivesTheSameEvents) {
  std::vector<std::string> bytes;
  for (char c : kStream) bytes.emplace_back(1, c);
  expect_events(parse_pieces(bytes));
}

TEST(Sse, EverySplitPointGivesTheSameEvents) {
  for (size_t i = 0; i <= kStream.size(); ++i) {
    SCOPED_TRACE("split at " + std::to_string(i));
    expect_events(parse_pieces({kStream.substr(0, i), kStream.substr(i)}));
  }
}

TEST(Sse, CrlfSplitAcrossReadsIsOneLineEnd) {
  // "\r" ends one read and "\n" starts the next: one line end, not a blank line.
  const auto e = parse_pieces({"data: a\r", "\ndata: b\r", "\n\r", "\n"});
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].data, "a\nb");
}

TEST(Sse, NoEventWithoutItsBlankLineAndBoundaryKnown) {
  std::vector<SseEvent> events;
  SseParser parser([&](const SseEvent& e) {
    events.push_back(e);
    return true;
  });
  EXPECT_TRUE(parser.at_boundary());
  parser.feed("data: cut");
  EXPECT_FALSE(parser.at_boundary());
  parser.feed("\n");
  EXPECT_TRUE(events.empty());
  EXPECT_FALSE(parser.at_boundary());
  parser.feed("\n");
  EXPECT_EQ(events.size(), 1u);
  EXPECT_TRUE(parser.at_boundary());
}

TEST(Sse, EventWithOnlyCommentsOrOtherFieldsIsNotDispatched) {
  EXPECT_TRUE(parse_pieces({": hi\n\nevent: x\n\nid: 3\n\n"}).empty());
}

TEST(Sse, HandlerReturningFalseStopsTheParse) {
  int seen = 0;
  SseParser parser([&](const SseEvent&) { return ++seen < 2; });
  EXPECT_FALSE(parser.feed("data: 1\n\ndata: 2\n\ndata: 3\n\n"));
  EXPECT_EQ(seen, 2);
}

TEST(Sse, OverlongLineIsAnError) {
  SseParser parser([](const SseEvent&) { return true; }, 16);
  EXPECT_THROW(parser.feed("data: " + std::string(32, 'x')), Error);
}

}  // namespace
}  // namespace tandem::remote
