#version 330 core
in vec2 in_pos;  // NDC

void main() {
    gl_Position = vec4(in_pos, 0.0, 1.0);
}
