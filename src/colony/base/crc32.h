// CRC-32 (IEEE 802.3 polynomial), for checksums of files we write.
#pragma once

#include <cstdint>
#include <string_view>

namespace colony {

// Extends `crc` (0 to start) over `data`.
uint32_t Crc32(std::string_view data, uint32_t crc = 0);

}  // namespace colony
