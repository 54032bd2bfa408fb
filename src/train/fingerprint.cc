#include "train/fingerprint.h"

#include <cstdio>

#include "util/mapped_file.h"

namespace tandem::train {

uint64_t file_fingerprint(const std::string& path) {
  MappedFile f(path);
  Fingerprint fp;
  fp.add(static_cast<uint64_t>(f.size()));
  if (f.size() > 0) fp.add_bytes(f.data(), f.size());
  return fp.value();
}

std::string fingerprint_hex(uint64_t fp) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fp));
  return buf;
}

}  // namespace tandem::train
