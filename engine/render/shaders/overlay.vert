#version 330 core
// A textured rectangle from four implicit vertices (triangle strip), placed in NDC.
uniform vec4 u_rect;  // x0, y0, x1, y1 in NDC
out vec2 v_uv;

void main() {
    vec2 t = vec2(float(gl_VertexID & 1), float((gl_VertexID >> 1) & 1));
    v_uv = vec2(t.x, t.y);
    gl_Position = vec4(mix(u_rect.xy, u_rect.zw, t), 0.0, 1.0);
}
