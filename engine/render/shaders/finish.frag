#version 330 core
// The last touches on the composed picture, every frame: the paper's texture multiplied in, then
// film grain. detail.py compiles one variant per combination of PAPER and GRAIN (llvmpipe runs
// both sides of a uniform branch), and skips the pass when both are off.
out vec4 f_color;

uniform sampler2D u_src;  // the composed, graded picture
const vec3 LUMA = vec3(0.2126, 0.7152, 0.0722);  // Rec. 709, as in grade.py

#ifdef PAPER
uniform sampler2D u_paper_tex;  // r = 1 where the surface is bare, lower in its threads and fibres
uniform float u_paper;      // amount 0..1: the most any pixel darkens, as a share of its value
#endif

#ifdef GRAIN
uniform uint u_seed;   // from the frame's clock time: same time, same grain
uniform float u_grain; // amount 0..1
const float GRAIN_SIGMA = 0.12;  // σ of the grain at amount 1 in mid-gray

#include "hash.glsl"
#endif

void main() {
    ivec2 px = ivec2(gl_FragCoord.xy);
    vec3 c = texelFetch(u_src, px, 0).rgb;
#ifdef PAPER
    c *= 1.0 - u_paper * (1.0 - texelFetch(u_paper_tex, px, 0).r);
#endif
#ifdef GRAIN
    uint h = hash(uvec3(uvec2(px), u_seed));
    // Two 16-bit uniforms summed: a triangular, zero-mean value in (-1, 1), σ = 0.408.
    float n = float(h & 0xffffu) / 65535.0 + float(h >> 16) / 65535.0 - 1.0;
    // Like film, most visible in the mid-tones; pure black and white stay clean (and unclipped).
    float l = clamp(dot(c, LUMA), 0.0, 1.0);
    float weight = 4.0 * l * (1.0 - l);
    c += u_grain * (GRAIN_SIGMA / 0.408) * weight * n;
#endif
    f_color = vec4(c, 1.0);
}
