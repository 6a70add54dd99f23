#version 330 core
// Horizontal half of the mask upscale (linear, 2 texel fetches), output width × mask height.
// Splitting it like the image upscale avoids a full-screen bilinear fetch, which costs llvmpipe
// about as much as the whole vertical Catmull-Rom.
out vec4 f_color;

uniform sampler2D u_mask;  // 0..1, row 0 = top
uniform float u_out_width;
uniform float u_scale;     // share of the camera width visible (cover fit)
uniform float u_mirror;

void main() {
    int width = textureSize(u_mask, 0).x;
    float px = gl_FragCoord.x / u_out_width;
    if (u_mirror > 0.5) px = 1.0 - px;
    float pos = (0.5 + (px - 0.5) * u_scale) * float(width) - 0.5;
    float base = floor(pos);
    int x0 = int(base);
    int row = int(gl_FragCoord.y);
    float a = texelFetch(u_mask, ivec2(clamp(x0, 0, width - 1), row), 0).r;
    float b = texelFetch(u_mask, ivec2(clamp(x0 + 1, 0, width - 1), row), 0).r;
    f_color = vec4(mix(a, b, pos - base));
}
