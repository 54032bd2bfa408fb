#include "compose/documents.h"

#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace tandem::compose {
namespace {

using nlohmann::json;

[[noreturn]] void fail_at(const std::string& name, size_t line, const std::string& what) {
  throw Error(name + ":" + std::to_string(line) + ": " + what);
}

bool blank(std::string_view line) { return line.find_first_not_of(" \t\r\f\v") == std::string_view::npos; }

// The file's lines without their newlines (and a carriage return before one).
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

std::vector<Passage> parse_jsonl(std::string_view text, const std::string& name) {
  std::vector<Passage> out;
  std::set<std::string> ids;
  const std::vector<std::string_view> lines = split_lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    const size_t line = i + 1;
    if (blank(lines[i])) continue;
    json j;
    try {
      j = json::parse(lines[i]);
    } catch (const json::exception& e) {
      fail_at(name, line, std::string("not JSON (") + e.what() + ")");
    }
    if (!j.is_object()) fail_at(name, line, "each line must be a JSON object with a \"text\"");
    const auto t = j.find("text");
    if (t == j.end()) fail_at(name, line, "no \"text\"");
    if (!t->is_string() || blank(t->get_ref<const std::string&>()))
      fail_at(name, line, "\"text\" must be a non-empty string");
    Passage p{std::to_string(line), t->get<std::string>()};
    if (const auto id = j.find("id"); id != j.end()) {
      if (id->is_string() && !id->get_ref<const std::string&>().empty()) p.id = id->get<std::string>();
      else if (id->is_number_integer()) p.id = id->dump();
      else fail_at(name, line, "\"id\" must be a non-empty string or an integer");
    }
    if (!ids.insert(p.id).second)
      fail_at(name, line, "id " + json(p.id).dump(-1, ' ', false, json::error_handler_t::replace) + " is given twice");
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<Passage> parse_paragraphs(std::string_view text) {
  std::vector<Passage> out;
  const std::vector<std::string_view> lines = split_lines(text);
  Passage current;
  for (size_t i = 0; i <= lines.size(); ++i) {
    if (i == lines.size() || blank(lines[i])) {
      if (!current.text.empty()) out.push_back(std::move(current));
      current = {};
      continue;
    }
    if (current.text.empty()) current.id = std::to_string(i + 1);
    else current.text += '\n';
    current.text += lines[i];
  }
  return out;
}

}  // namespace

std::vector<Passage> parse_documents(std::string_view text, const std::string& name) {
  const bool jsonl = name.size() >= 6 && name.compare(name.size() - 6, 6, ".jsonl") == 0;
  std::vector<Passage> out = jsonl ? parse_jsonl(text, name) : parse_paragraphs(text);
  if (out.empty())
    throw Error(name + ": no passages (" +
                (jsonl ? std::string("one JSON object with a \"text\" per line") : "paragraphs split by blank lines") +
                " expected)");
  return out;
}

std::vector<Passage> read_documents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot read the documents");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_documents(text.str(), path);
}

}  // namespace tandem::compose
