#version 330 core
// Last pass when the chain runs below output resolution: a bilinear stretch to the window.
in vec2 v_uv;
out vec4 f_color;
uniform sampler2D u_src;

void main() {
    f_color = vec4(texture(u_src, v_uv).rgb, 1.0);
}
