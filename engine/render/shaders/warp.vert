#version 330 core
// The projector warp's mesh (engine.render.warp): each vertex is a point of the Catmull-Rom mesh in
// the corner-pinned square and the picture coordinate it carries. The corner pin is applied here as
// a homogeneous clip position, so the rasteriser's perspective-correct interpolation makes the
// keystone exact; only the mesh is piecewise linear between vertices a few pixels apart.
in vec2 in_pos;  // pinned square, (0, 0) top-left
in vec2 in_uv;   // picture coordinate, (0, 0) top-left
uniform mat3 u_pin;  // pinned square -> clip space (homogeneous), the output's y flip included
out vec2 v_uv;

void main() {
    vec3 p = u_pin * vec3(in_pos, 1.0);
    v_uv = in_uv;
    gl_Position = vec4(p.xy, 0.0, p.z);
}
