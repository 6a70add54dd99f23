#version 330 core
// A painter's canvas, made once per output size (detail.py caches it): a plain weave of slightly
// wavy, uneven threads over a mottled ground. Fixed to the screen, not to the picture, so the
// image moves across the surface like paint seen through a projector onto canvas.
// Sizes are in pixels of a 1080-line screen, so the weave looks the same at any output size.
out vec4 f_paper;  // r = 1 where the surface is bare, down to ~0.25 deep in a thread's gap

uniform float u_ref;  // 1080-line pixels per pixel of this target

#include "hash.glsl"

const float THREAD = 5.0;  // thread pitch

float value_noise(vec2 p, uint seed) {
    vec2 i = floor(p), f = fract(p);
    uvec2 c = uvec2(ivec2(i) + 4096);
    float a = hash01(uvec3(c, seed)), b = hash01(uvec3(c + uvec2(1, 0), seed));
    float d = hash01(uvec3(c + uvec2(0, 1), seed)), e = hash01(uvec3(c + uvec2(1, 1), seed));
    f = f * f * (3.0 - 2.0 * f);
    return mix(mix(a, b, f.x), mix(d, e, f.x), f.y);
}

float fbm(vec2 p, uint seed) {
    float sum = 0.0, amp = 0.5;
    for (int o = 0; o < 4; o++) {
        sum += amp * value_noise(p, seed + uint(o));
        p *= 2.03;
        amp *= 0.5;
    }
    return sum / 0.9375;
}

void main() {
    vec2 pos = gl_FragCoord.xy * u_ref;
    // Threads wander a little, so the weave is cloth and not a grid.
    vec2 wobble = vec2(value_noise(pos / 47.0, 11u), value_noise(pos / 53.0, 23u)) - 0.5;
    vec2 q = pos / THREAD + 0.6 * wobble;
    vec2 cell = floor(q), f = fract(q) - 0.5;
    ivec2 ic = ivec2(cell) + 65536;
    // Each thread has its own thickness and tone along its whole length.
    float warp_tone = 0.8 + 0.2 * hash01(uvec3(uint(ic.x), 1u, 7u));
    float weft_tone = 0.8 + 0.2 * hash01(uvec3(uint(ic.y), 2u, 7u));
    float warp = (1.0 - 4.0 * f.x * f.x) * warp_tone;  // vertical thread, across its width
    float weft = (1.0 - 4.0 * f.y * f.y) * weft_tone;  // horizontal thread
    // Plain weave: at each crossing one thread lies on top and hides the other.
    bool warp_on_top = ((ic.x + ic.y) & 1) == 0;
    float thread = warp_on_top ? max(warp, 0.6 * weft) : max(weft, 0.6 * warp);
    float gap = 1.0 - clamp(thread, 0.0, 1.0);
    float ground = fbm(pos / 180.0, 31u);                // mottled priming, large and soft
    float fibre = hash01(uvec3(uvec2(ivec2(pos) + 8192), 41u));  // fine tooth
    float dark = 0.45 * gap * gap + 0.22 * ground + 0.08 * fibre;
    f_paper = vec4(1.0 - clamp(dark, 0.0, 0.75), 0.0, 0.0, 1.0);
}
