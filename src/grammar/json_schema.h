// JSON Schema -> GBNF, so that constrained decoding produces JSON documents
// valid under the schema.
//
// Supported: type (string, number, integer, boolean, null, object, array, and
// lists of types), properties / required (properties appear in declaration
// order; optional ones may be left out), additionalProperties (false or
// absent: none; true or a schema: extra "key": value pairs after the declared
// ones), items, prefixItems, minItems / maxItems, minLength / maxLength, enum,
// const, anyOf / oneOf, $ref to "#/$defs/..." or "#/definitions/..."
// (recursive definitions included), and {} / true for any JSON value.
// Numbers have at most 16 integer and fraction digits and a 2-digit
// exponent, so every document parses into doubles. Output whitespace follows llama.cpp: at most one newline plus indentation
// after each token.
//
// Anything else that constrains values (pattern, format, minimum, allOf,
// not, ...) throws tandem::Error naming the keyword: silently ignoring it would
// let invalid documents through.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace tandem::grammar {

// Properties keep the order of the schema text: pass the text, or an
// ordered_json (nlohmann::json sorts object keys alphabetically, so the json
// overload orders properties by name).
std::string json_schema_to_gbnf(std::string_view schema_text);  // throws tandem::Error on invalid JSON
std::string json_schema_to_gbnf(const nlohmann::ordered_json& schema);
std::string json_schema_to_gbnf(const nlohmann::json& schema);

}  // namespace tandem::grammar
