// The retrieval index (compose/retrieval_index.h): exact search against a
// brute-force computation in double precision on random vectors, ties, the
// file round trip, and the strict reader on every kind of damaged file
// (every truncation, every flipped byte, bad fields).
#include "compose/retrieval_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "test_util.h"
#include "util/error.h"

namespace tandem::compose {
namespace {

std::vector<float> random_vector(std::mt19937& rng, size_t dim) {
  return tandem::testing::normal_floats(rng, static_cast<int64_t>(dim), 1.0f);
}

RetrievalIndex random_index(std::mt19937& rng, size_t n, size_t dim) {
  RetrievalIndex index("emb", dim);
  for (size_t i = 0; i < n; ++i) index.add({"p" + std::to_string(i), "text " + std::to_string(i)}, random_vector(rng, dim));
  return index;
}

// Every passage's cosine to `query` in double precision, sorted highest
// first, ties to the lower index: the reference search() must agree with.
std::vector<std::pair<double, size_t>> brute_force(const RetrievalIndex& index, const std::vector<float>& query) {
  double qn = 0.0;
  for (float x : query) qn += static_cast<double>(x) * x;
  qn = std::sqrt(qn);
  std::vector<std::pair<double, size_t>> all;
  for (size_t i = 0; i < index.size(); ++i) {
    double dot = 0.0;
    for (size_t d = 0; d < index.dim(); ++d) dot += static_cast<double>(index.vector(i)[d]) * query[d];
    all.push_back({dot / qn, i});
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  return all;
}

TEST(RetrievalIndex, ExactSearchAgreesWithBruteForce) {
  std::mt19937 rng(7);
  for (size_t dim : {1u, 3u, 16u, 17u, 64u, 300u}) {
    for (size_t n : {1u, 2u, 50u, 400u}) {
      const RetrievalIndex index = random_index(rng, n, dim);
      for (int q = 0; q < 5; ++q) {
        const std::vector<float> query = random_vector(rng, dim);
        const auto want = brute_force(index, query);
        for (size_t k : {size_t{1}, size_t{3}, size_t{10}, n, n + 7}) {
          SCOPED_TRACE("dim " + std::to_string(dim) + " n " + std::to_string(n) + " k " + std::to_string(k));
          const std::vector<RetrievalHit> got = index.search(query, k);
          ASSERT_EQ(got.size(), std::min(k, n));
          for (size_t j = 0; j < got.size(); ++j) {
            EXPECT_NEAR(got[j].cosine, want[j].first, 1e-5);
            // Float rounding may only swap passages whose cosines are within it.
            const bool near_tie = (j > 0 && want[j].first - want[j - 1].first > -2e-5) ||
                                  (j + 1 < n && want[j].first - want[j + 1].first < 2e-5);
            if (!near_tie) {
              EXPECT_EQ(got[j].index, want[j].second) << "rank " << j;
            }
          }
        }
      }
    }
  }
}

TEST(RetrievalIndex, EqualCosinesComeInIndexOrder) {
  // Passages 1, 4, 5 share one direction, 0, 2, 3 another (at 60 degrees).
  const std::vector<float> a = {1.0f, 0.0f}, b = {0.5f, std::sqrt(3.0f) / 2.0f};
  RetrievalIndex index("emb", 2);
  for (size_t i = 0; i < 6; ++i) index.add({std::to_string(i), "t"}, (i == 1 || i == 4 || i == 5) ? a : b);
  const std::vector<RetrievalHit> hits = index.search(std::vector<float>{3.0f, 0.0f}, 6);
  std::vector<size_t> order;
  for (const RetrievalHit& h : hits) order.push_back(h.index);
  EXPECT_EQ(order, (std::vector<size_t>{1, 4, 5, 0, 2, 3}));
  EXPECT_FLOAT_EQ(hits[0].cosine, 1.0f);
  EXPECT_NEAR(hits[3].cosine, 0.5f, 1e-6);
  // A zero query is equally far from everything: index order, cosine 0.
  const std::vector<RetrievalHit> zero = index.search(std::vector<float>{0.0f, 0.0f}, 3);
  ASSERT_EQ(zero.size(), 3u);
  for (size_t j = 0; j < 3; ++j) {
    EXPECT_EQ(zero[j].index, j);
    EXPECT_EQ(zero[j].cosine, 0.0f);
  }
}

TEST(RetrievalIndex, RejectsBadPassagesAndQueries) {
  RetrievalIndex index("emb", 2);
  index.add({"a", "text"}, std::vector<float>{1.0f, 1.0f});
  EXPECT_NEAR(index.vector(0)[0], 1.0 / std::sqrt(2.0), 1e-7);
  EXPECT_THROW(index.add({"a", "again"}, std::vector<float>{1.0f, 0.0f}), Error);  // id twice
  EXPECT_THROW(index.add({"", "text"}, std::vector<float>{1.0f, 0.0f}), Error);
  EXPECT_THROW(index.add({"b", ""}, std::vector<float>{1.0f, 0.0f}), Error);
  EXPECT_THROW(index.add({"b", "text"}, std::vector<float>{1.0f}), Error);
  EXPECT_THROW(index.add({"b", "text"}, std::vector<float>{1.0f, std::nanf("")}), Error);
  EXPECT_EQ(index.size(), 1u);
  EXPECT_THROW(index.search(std::vector<float>{1.0f, 0.0f, 0.0f}, 1), Error);
  EXPECT_THROW(index.search(std::vector<float>{std::numeric_limits<float>::infinity(), 0.0f}, 1), Error);
  EXPECT_THROW(RetrievalIndex("emb", 0), Error);
  EXPECT_THROW(RetrievalIndex("", 4), Error);
}

TEST(RetrievalIndex, SaveAndLoadRoundTrip) {
  std::mt19937 rng(3);
  RetrievalIndex index = random_index(rng, 20, 33);
  index.add({"multi-line", "first line\nsecond line, \xc3\xa9t\xc3\xa9"}, random_vector(rng, 33));
  const std::string path = ::testing::TempDir() + "tandem_retrieval_index_roundtrip.idx";
  index.save(path);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));  // renamed into place
  EXPECT_THROW(index.save("/nonexistent/tandem-dir/x.idx"), Error);
  const RetrievalIndex back = RetrievalIndex::load(path);
  EXPECT_EQ(back.embedder(), "emb");
  ASSERT_EQ(back.dim(), 33u);
  ASSERT_EQ(back.size(), index.size());
  for (size_t i = 0; i < index.size(); ++i) {
    EXPECT_EQ(back.passage(i).id, index.passage(i).id);
    EXPECT_EQ(back.passage(i).text, index.passage(i).text);
    EXPECT_EQ(std::memcmp(back.vector(i).data(), index.vector(i).data(), 33 * sizeof(float)), 0);
  }
  EXPECT_EQ(back.serialize(), index.serialize());
  const std::vector<float> q = random_vector(rng, 33);
  const auto a = index.search(q, 5), b = back.search(q, 5);
  for (size_t j = 0; j < 5; ++j) EXPECT_EQ(a[j].index, b[j].index);
  std::remove(path.c_str());
  try {
    RetrievalIndex::load(path);
    FAIL() << "a missing file loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

// parse()'s error for `bytes`, "" when they parse.
std::string parse_error(const std::string& bytes) {
  try {
    RetrievalIndex::parse(bytes, "x.idx");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void expect_error(const std::string& bytes, const std::string& want) {
  const std::string e = parse_error(bytes);
  EXPECT_EQ(e.rfind("x.idx: retrieval index: ", 0), 0u) << e;
  EXPECT_NE(e.find(want), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
}

// A small index file: embedder "emb", dimension 2, passages "a" and "b".
// Offsets: magic 0, version 8, name 12 (length) and 16, dim 19, count 23,
// passage "a" 31 (id length; text length 36), passage "b" 45 (its id at 49),
// the vectors in the last 16 bytes.
std::string small_file() {
  RetrievalIndex index("emb", 2);
  index.add({"a", "alpha"}, std::vector<float>{1.0f, 0.0f});
  index.add({"b", "beta"}, std::vector<float>{0.0f, 2.0f});
  return index.serialize();
}

template <class T>
std::string with(std::string bytes, size_t offset, T value) {
  std::memcpy(bytes.data() + offset, &value, sizeof value);
  return bytes;
}

TEST(RetrievalIndex, EveryTruncationIsOneError) {
  const std::string file = small_file();
  ASSERT_EQ(parse_error(file), "");
  for (size_t n = 0; n < file.size(); ++n) {
    SCOPED_TRACE("truncated to " + std::to_string(n) + " bytes");
    expect_error(file.substr(0, n), "truncated");
  }
  expect_error(file + "x", "1 bytes after the last vector");
}

TEST(RetrievalIndex, DamagedFieldsAreOneErrorNamingTheProblem) {
  const std::string file = small_file();
  const size_t vectors = file.size() - 16;
  expect_error(with(file, 0, 'X'), "wrong magic");
  expect_error(with(file, 8, uint32_t{2}), "version 2");
  expect_error(with(file, 12, uint32_t{0xffffffff}), "more than any passage");
  expect_error(with(file, 12, uint32_t{1000}), "truncated");
  expect_error(with(file, 19, uint32_t{0}), "dimension 0");
  expect_error(with(file, 19, uint32_t{1u << 20}), "not in 1..");
  expect_error(with(file, 23, uint64_t{0}), "no passages");
  expect_error(with(file, 23, uint64_t{1} << 60), "truncated");  // never a huge allocation
  expect_error(with(file, 23, ~uint64_t{0}), "truncated");
  expect_error(with(file, 23, uint64_t{1}), "bytes after the last vector");
  expect_error(with(file, 31, uint32_t{0xfffffff0}), "more than any passage");
  expect_error(with(file, 31, uint32_t{0}), "empty id");
  expect_error(with(file, 49, 'a'), "there twice");  // "a" then "a"
  expect_error(with(file, vectors, std::nanf("")), "not finite");
  expect_error(with(file, vectors, 0.5f), "not of unit length");
}

TEST(RetrievalIndex, EveryFlippedByteParsesOrIsOneError) {
  const std::string file = small_file();
  for (size_t i = 0; i < file.size(); ++i) {
    for (unsigned char x : {0x01, 0x80, 0xff}) {
      std::string bad = file;
      bad[i] = static_cast<char>(bad[i] ^ x);
      const std::string e = parse_error(bad);
      if (!e.empty()) {
        EXPECT_EQ(e.rfind("x.idx: retrieval index: ", 0), 0u) << e;
        EXPECT_EQ(e.find('\n'), std::string::npos) << e;
      }
    }
  }
}

}  // namespace
}  // namespace tandem::compose
