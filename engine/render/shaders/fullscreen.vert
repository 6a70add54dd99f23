#version 330 core
// One oversized triangle covering the viewport; no vertex buffer needed.
out vec2 v_uv;  // output position, (0, 0) = bottom-left, (1, 1) = top-right

void main() {
    vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
    v_uv = p;
    gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}
