#version 330 core
// Anisotropic Kuwahara (Kyprianidis, Kang and Döllner 2009, with the polynomial sector weights of
// Kyprianidis et al. 2010): a disc stretched into an ellipse along the local edge direction, cut
// into 8 overlapping sectors; the output is the sectors' means weighted towards the ones with the
// lowest variance, so flat areas go flat and an edge stays where it was, with a crisp border.
// The ellipse is sampled at the 29 points of a 7×7 grid that lie in the disc, not at every pixel:
// the upscaled picture has no detail finer than a generator texel, so a few bilinear taps per
// texel estimate the sector statistics as well as all of them would, at a fixed cost.
// Written for llvmpipe: a fixed sample list (a loop with `continue` ran 3× slower) and eight named
// accumulators (indexed arrays ran 1.6× slower).
in vec2 v_uv;
out vec4 f_color;

uniform sampler2D u_src;     // rgb = picture, a = person mask (taken from the centre)
uniform sampler2D u_tensor;  // (E, G, F) from tensor.frag
uniform float u_radius;      // disc radius in pixels before the anisotropic stretch

const float ALPHA = 1.0;      // how far anisotropy may stretch the disc (1: up to 2:1)
const float Q = 8.0;          // sharpness of the choice between sectors
const float HARDNESS = 8000.0;  // variance scale: the soft upscale's sectors differ only a little
const float ZETA = 0.33;      // overlap of the sector weights at the centre
// η puts a sector's weight to zero 0.58 rad off its axis on the rim: (ζ + cos 0.58) / sin² 0.58
const float ETA = (ZETA + 0.83646) / 0.30033;
// Half the disc's grid points, in units of the radius / 3; each stands for itself and its mirror.
const int PAIRS = 14;
const vec2 OFFSETS[PAIRS] = vec2[](
    vec2(1, 0), vec2(2, 0), vec2(3, 0),
    vec2(-2, 1), vec2(-1, 1), vec2(0, 1), vec2(1, 1), vec2(2, 1),
    vec2(-2, 2), vec2(-1, 2), vec2(0, 2), vec2(1, 2), vec2(2, 2),
    vec2(0, 3)
);

// Polynomial weights of the 8 sectors for a sample at disc position v. Sector k + 4 is sector k
// turned half a turn, so its weight at v is sector k's at -v: one set of weights serves the pair
// of samples v and -v.
void sector_weights(vec2 v, out vec4 even, out vec4 odd) {
    vec2 r = 0.70710678 * vec2(v.x - v.y, v.x + v.y);  // v turned 45°, for the odd sectors
    vec2 sq = ZETA - ETA * v * v, rq = ZETA - ETA * r * r;
    even = max(vec4(v.y + sq.x, -v.x + sq.y, -v.y + sq.x, v.x + sq.y), 0.0);
    odd = max(vec4(r.y + rq.x, -r.x + rq.y, -r.y + rq.x, r.x + rq.y), 0.0);
    even *= even;
    odd *= odd;
    float g = exp(-0.78 * dot(v, v)) / max(dot(even, vec4(1.0)) + dot(odd, vec4(1.0)), 1e-6);
    even *= g;
    odd *= g;
}

// A sector's mean, weighted by how uniform the sector is: the flattest side of an edge wins.
vec4 choose(vec4 m, vec3 s) {
    vec3 mean = m.rgb / m.w;
    vec3 var = abs(s / m.w - mean * mean);
    float w = 1.0 / (1.0 + pow(HARDNESS * (var.r + var.g + var.b), 0.5 * Q));
    return vec4(mean * w, w);
}

void main() {
    vec2 texel = 1.0 / vec2(textureSize(u_src, 0));
    vec4 centre = texture(u_src, v_uv);
    vec3 t = texture(u_tensor, v_uv).xyz;  // E, G, F
    float root = sqrt((t.x - t.y) * (t.x - t.y) + 4.0 * t.z * t.z);
    float l1 = 0.5 * (t.x + t.y + root), l2 = 0.5 * (t.x + t.y - root);
    vec2 dir = vec2(l1 - t.x, -t.z);  // eigenvector of the smaller eigenvalue: along the edge
    dir = dot(dir, dir) > 1e-12 ? normalize(dir) : vec2(1.0, 0.0);
    float A = l1 + l2 > 1e-9 ? (l1 - l2) / (l1 + l2) : 0.0;
    float a = u_radius * clamp((ALPHA + A) / ALPHA, 0.1, 2.0);
    float b = u_radius * clamp(ALPHA / (ALPHA + A), 0.1, 2.0);
    // Disc coordinates → pixel offsets: scale by (a, b), rotate onto the edge direction.
    mat2 to_px = mat2(dir * a, vec2(-dir.y, dir.x) * b);

    // Sector k's weighted sums, m = (Σ w·c, Σ w) and s = Σ w·c², all starting from the centre.
    vec4 c0m = vec4(centre.rgb, 1.0) / 8.0;
    vec3 c0s = centre.rgb * centre.rgb / 8.0;
    vec4 m0 = c0m, m1 = c0m, m2 = c0m, m3 = c0m, m4 = c0m, m5 = c0m, m6 = c0m, m7 = c0m;
    vec3 s0 = c0s, s1 = c0s, s2 = c0s, s3 = c0s, s4 = c0s, s5 = c0s, s6 = c0s, s7 = c0s;
#define ACC(M, S, A, B) M += vec4(c0 * A + c1 * B, A + B); S += q0 * A + q1 * B
    for (int n = 0; n < PAIRS; n++) {
        vec2 v = OFFSETS[n] / 3.0;
        vec2 d = to_px * v * texel;
        vec3 c0 = texture(u_src, v_uv + d).rgb, c1 = texture(u_src, v_uv - d).rgb;
        vec3 q0 = c0 * c0, q1 = c1 * c1;
        vec4 e, o;  // sectors 0, 2, 4, 6 and 1, 3, 5, 7 at v; at -v the same, half a turn on
        sector_weights(v, e, o);
        ACC(m0, s0, e.x, e.z);
        ACC(m1, s1, o.x, o.z);
        ACC(m2, s2, e.y, e.w);
        ACC(m3, s3, o.y, o.w);
        ACC(m4, s4, e.z, e.x);
        ACC(m5, s5, o.z, o.x);
        ACC(m6, s6, e.w, e.y);
        ACC(m7, s7, o.w, o.y);
    }
    vec4 o = vec4(0.0);
    o += choose(m0, s0);
    o += choose(m1, s1);
    o += choose(m2, s2);
    o += choose(m3, s3);
    o += choose(m4, s4);
    o += choose(m5, s5);
    o += choose(m6, s6);
    o += choose(m7, s7);
    f_color = vec4(o.rgb / o.w, centre.a);
}
