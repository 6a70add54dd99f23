#version 330 core
in vec2 v_uv;
out vec4 f_color;

uniform sampler2D u_texture;  // RGBA, straight alpha, bottom row first
uniform float u_opacity;

void main() {
    vec4 c = texture(u_texture, v_uv);
    f_color = vec4(c.rgb, c.a * u_opacity);
}
