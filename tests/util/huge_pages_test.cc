#include "util/huge_pages.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <utility>

namespace tandem {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

TEST(HugePageBuffer, IsHugePageAlignedZeroedAndWritable) {
  for (size_t bytes : {size_t{1}, size_t{4096}, kHugePage, kHugePage + 1, 3 * kHugePage + 12345}) {
    HugePageBuffer b(bytes);
    ASSERT_NE(b.data(), nullptr);
    EXPECT_EQ(b.size(), bytes);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % kHugePage, 0u) << bytes;
    size_t nonzero = 0;
    for (size_t i = 0; i < bytes; i += 997) nonzero += b.data()[i] != 0;
    EXPECT_EQ(nonzero, 0u);
    b.data()[bytes - 1] = 2;  // the last byte asked for is usable
    b.data()[0] += 1;
    EXPECT_EQ(b.data()[bytes - 1], bytes == 1 ? 3 : 2);
  }
}

TEST(HugePageBuffer, EmptyHasNoMemory) {
  HugePageBuffer b(0);
  EXPECT_EQ(b.data(), nullptr);
  EXPECT_EQ(b.size(), 0u);
}

TEST(HugePageBuffer, MoveTransfersOwnership) {
  HugePageBuffer a(100);
  a.data()[99] = 7;
  uint8_t* p = a.data();
  HugePageBuffer b(std::move(a));
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(b.data(), p);
  EXPECT_EQ(b.data()[99], 7);
  HugePageBuffer c(10);
  c = std::move(b);  // c's own memory is unmapped, b's moves over
  EXPECT_EQ(c.data(), p);
  EXPECT_EQ(c.size(), 100u);
  EXPECT_EQ(b.data(), nullptr);
}

}  // namespace
}  // namespace tandem
