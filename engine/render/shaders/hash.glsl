// An integer hash (PCG-style multiply and xor-shift rounds): white noise with no visible pattern at
// pixel scale, exact and the same on every GL driver, so a frame renders identically offline.
uint hash(uvec3 v) {
    uint h = v.x * 1664525u + v.y * 1013904223u + v.z * 2654435769u;
    h ^= h >> 16;
    h *= 0x7feb352du;
    h ^= h >> 15;
    h *= 0x846ca68bu;
    h ^= h >> 16;
    return h;
}

float hash01(uvec3 v) {
    return float(hash(v) >> 8) / 16777215.0;
}
