#version 330 core
// Second half of both upscales, run only on new input: vertical Catmull-Rom of the image rows
// and, in the MASK variant, vertical linear of the mask rows. The person mask goes to alpha,
// already through the edge ramp. The result is cached until image, mask or mirror change.
out vec4 f_color;

uniform sampler2D u_rows;       // image after the horizontal pass, row 0 = top
uniform float u_out_height;
uniform float u_scale;          // share of the source height visible (cover fit)

#ifdef MASK
uniform sampler2D u_mask_rows;  // mask after the horizontal pass, row 0 = top
uniform float u_mask_scale;     // share of the camera height visible
uniform float u_mask_edge;
#endif

#include "catmull_rom.glsl"

void main() {
    float py = gl_FragCoord.y / u_out_height;  // 0 = bottom of the screen
    int col = int(gl_FragCoord.x);
    int rows = textureSize(u_rows, 0).y;
    float pos = (0.5 - (py - 0.5) * u_scale) * float(rows) - 0.5;  // 0 = top of the source
    float base = floor(pos);
    vec4 w = catmull_rom_weights(pos - base);
    int y0 = int(base) - 1;
    vec3 c = vec3(0.0);
    for (int k = 0; k < 4; k++) {
        c += texelFetch(u_rows, ivec2(col, clamp(y0 + k, 0, rows - 1)), 0).rgb * w[k];
    }
    float m = 0.0;  // no mask: nobody there, all field
#ifdef MASK
    int mrows = textureSize(u_mask_rows, 0).y;
    float mpos = (0.5 - (py - 0.5) * u_mask_scale) * float(mrows) - 0.5;
    float mbase = floor(mpos);
    int m0 = int(mbase);
    float ma = texelFetch(u_mask_rows, ivec2(col, clamp(m0, 0, mrows - 1)), 0).r;
    float mb = texelFetch(u_mask_rows, ivec2(col, clamp(m0 + 1, 0, mrows - 1)), 0).r;
    m = smoothstep(0.5 - u_mask_edge, 0.5 + u_mask_edge + 1e-4, mix(ma, mb, mpos - mbase));
#endif
    f_color = vec4(clamp(c, 0.0, 1.0), m);
}
