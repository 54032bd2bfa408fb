// A document collection as passages for a retrieval index
// (compose/retrieval_index.h), read from one file:
//
// - `.jsonl`: one JSON object per line with a string "text" (the passage) and
//   an optional "id" (a string, or an integer written in decimal); without
//   one, the id is the line number. Blank lines are skipped.
// - any other file: plain text split into passages at blank lines (lines of
//   whitespace only); a passage's lines keep their newlines, its id is the
//   number of its first line. Carriage returns before newlines are dropped.
//
// Errors are one tandem::Error of the form "FILE:LINE: problem" (a line that
// is not a JSON object, a missing or empty "text", an id of another type, an
// id given twice), or "FILE: ..." for an unreadable file or a collection
// without passages.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "compose/retrieval_index.h"

namespace tandem::compose {

// Passages of a file's text; `name` (the file's path) picks the format by its
// extension and starts every error message.
std::vector<Passage> parse_documents(std::string_view text, const std::string& name);

// Reads and parses a file. Throws tandem::Error (see above).
std::vector<Passage> read_documents(const std::string& path);

}  // namespace tandem::compose
