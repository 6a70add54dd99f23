#version 330 core
// A scene switch: the picture held from the moment of the switch, dissolving into the live one.
// Read 1:1 (both at the chain's resolution), so the mix is exact and costs one fetch per texture.
layout(location = 0) out vec4 f_color;

uniform sampler2D u_live;  // this frame's finished picture
uniform sampler2D u_held;  // what was on screen when the switch came
uniform float u_mix;       // share of the live picture, 0..1

void main() {
    ivec2 px = ivec2(gl_FragCoord.xy);
    vec3 held = texelFetch(u_held, px, 0).rgb;
    vec3 live = texelFetch(u_live, px, 0).rgb;
    f_color = vec4(mix(held, live, u_mix), 1.0);
}
