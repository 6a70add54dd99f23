#version 330 core
// The picture through the warp mesh, with the soft-edge blend (BLEND_U: left/right, BLEND_V:
// top/bottom, defined only when a side on that axis blends). Per side, within `width` of that edge of
// the picture: signal *= (d / width) ^ (1 / gamma), the projector's gamma undone so the light of two
// overlapping ramps adds up to one. Outside every overlap the black level is lifted
// (c * (1 - lift) + lift) to meet the overlap's doubled black. On a CPU rasteriser a log2 costs about
// a third of the texture fetch, so the ramps' product is one exp2 of a sum of log2s, and with one
// gamma for every side (ONE_GAMMA, the usual case) a single log2 of their product.
in vec2 v_uv;
out vec4 f_color;
uniform sampler2D u_src;  // the finished picture, bottom row first

#if defined(BLEND_U) || defined(BLEND_V)
#define BLEND
uniform vec4 u_scale;      // 1 / width per side (left, right, top, bottom); huge where a side is off
uniform vec4 u_inv_gamma;  // 1 / gamma per side
uniform float u_lift;
#endif

void main() {
    vec3 c = texture(u_src, vec2(v_uv.x, 1.0 - v_uv.y)).rgb;
#ifdef BLEND
    vec4 t = vec4(1.0);  // per side: 0 at the edge .. 1 at the overlap's inner end and beyond
#ifdef BLEND_U
    t.xy = clamp(vec2(v_uv.x, 1.0 - v_uv.x) * u_scale.xy, 0.0, 1.0);
#endif
#ifdef BLEND_V
    t.zw = clamp(vec2(v_uv.y, 1.0 - v_uv.y) * u_scale.zw, 0.0, 1.0);
#endif
#ifdef ONE_GAMMA
    float g = log2(t.x * t.y * t.z * t.w) * u_inv_gamma.x;
#else
    float g = 0.0;  // log2 of the gain
#ifdef BLEND_U
    g += dot(log2(t.xy), u_inv_gamma.xy);
#endif
#ifdef BLEND_V
    g += dot(log2(t.zw), u_inv_gamma.zw);
#endif
#endif
    float lift = all(greaterThanEqual(t, vec4(1.0))) ? u_lift : 0.0;
    c = c * exp2(g) * (1.0 - lift) + lift;
#endif
    f_color = vec4(c, 1.0);
}
