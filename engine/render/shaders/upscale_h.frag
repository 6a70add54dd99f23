#version 330 core
// Pass 1 of the separable Catmull-Rom upscale, run only when a new image arrives: output width
// × source height. Separable taps with texelFetch cost 4 + 4 fetches per pixel instead of 16
// (or 9 bilinear), which is what keeps llvmpipe within budget.
out vec4 f_color;

uniform sampler2D u_image;   // generator output, row 0 = top
uniform float u_out_width;
uniform float u_scale;       // share of the source width visible (cover fit)
uniform float u_mirror;

#include "catmull_rom.glsl"

void main() {
    ivec2 size = textureSize(u_image, 0);
    float px = gl_FragCoord.x / u_out_width;
    if (u_mirror > 0.5) px = 1.0 - px;
    float pos = (0.5 + (px - 0.5) * u_scale) * float(size.x) - 0.5;
    float base = floor(pos);
    vec4 w = catmull_rom_weights(pos - base);
    int row = int(gl_FragCoord.y);
    int x0 = int(base) - 1;
    vec3 c = vec3(0.0);
    for (int k = 0; k < 4; k++) {
        c += texelFetch(u_image, ivec2(clamp(x0 + k, 0, size.x - 1), row), 0).rgb * w[k];
    }
    f_color = vec4(c, 1.0);  // 8-bit target clamps the overshoot of the negative lobes
}
