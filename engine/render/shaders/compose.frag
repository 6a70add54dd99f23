#version 330 core
// Every frame: silhouette composite, feedback mix and colour grade over the cached upscale,
// read 1:1. chain.py compiles one variant per combination of MASK, TRAILS, GRADE (and HUE) because
// llvmpipe runs both sides of a uniform branch: a switched-off effect must cost nothing.
// With TRAILS the ungraded composite goes to the feedback buffer (location 1), so the grade is
// applied once per presented frame and never compounds through the loop.
layout(location = 0) out vec4 f_color;

uniform sampler2D u_base;  // rgb = upscaled image, a = person mask after the edge ramp
const vec3 LUMA = vec3(0.2126, 0.7152, 0.0722);  // Rec. 709, as in grade.py

#ifdef MASK
uniform float u_mask_mix;
uniform float u_field_gain;  // outside the silhouette: gain * c + luma_gain * luma(c)
uniform float u_field_luma;
#endif

#ifdef TRAILS
layout(location = 1) out vec4 f_history;
uniform sampler2D u_history;  // previous ungraded composite
uniform float u_trails;
#endif

#ifdef GRADE
#include "grade.glsl"
#endif

void main() {
    ivec2 px = ivec2(gl_FragCoord.xy);
    vec4 b = texelFetch(u_base, px, 0);
    vec3 c = b.rgb;
#ifdef MASK
    vec3 field = u_field_gain * c + u_field_luma * dot(c, LUMA);
    c = mix(c, field, (1.0 - b.a) * u_mask_mix);
#endif
#ifdef TRAILS
    c = mix(c, texelFetch(u_history, px, 0).rgb, u_trails);
    f_history = vec4(c, 1.0);
#endif
#ifdef GRADE
    c = grade(c);
#endif
    f_color = vec4(c, 1.0);
}
