#version 330 core
// Contrast-adaptive sharpening (the idea of AMD FidelityFX CAS): a 5-tap cross with a negative
// lobe whose weight comes from the local 3×3 min/max, so flat areas and strong edges get little
// and soft detail gets most. The taps sit `u_step` pixels apart, about half a generator texel:
// after a 4-8× upscale nothing changes within one output pixel, so 1-pixel taps would find no
// detail to lift. The result is clamped to the 3×3 range: no halo outside what was there.
out vec4 f_color;

uniform sampler2D u_src;  // rgb = picture, a = person mask (passed through)
uniform int u_step;       // tap distance in pixels
uniform float u_peak;     // negative lobe at full amplitude: -amount / mix(8, 5, amount)

vec4 tap(ivec2 p, ivec2 size) {
    return texelFetch(u_src, clamp(p, ivec2(0), size - 1), 0);
}

void main() {
    ivec2 size = textureSize(u_src, 0);
    ivec2 p = ivec2(gl_FragCoord.xy);
    int s = u_step;
    vec3 a = tap(p + ivec2(-s, s), size).rgb, b = tap(p + ivec2(0, s), size).rgb;
    vec3 c = tap(p + ivec2(s, s), size).rgb, d = tap(p + ivec2(-s, 0), size).rgb;
    vec4 e4 = tap(p, size);
    vec3 e = e4.rgb, f = tap(p + ivec2(s, 0), size).rgb;
    vec3 g = tap(p + ivec2(-s, -s), size).rgb, h = tap(p + ivec2(0, -s), size).rgb;
    vec3 i = tap(p + ivec2(s, -s), size).rgb;
    // CAS's soft min/max: cross plus box, so one outlier texel does not decide alone.
    vec3 mn_cross = min(min(min(d, e), min(f, b)), h);
    vec3 mn_box = min(mn_cross, min(min(a, c), min(g, i)));
    vec3 mx_cross = max(max(max(d, e), max(f, b)), h);
    vec3 mx_box = max(mx_cross, max(max(a, c), max(g, i)));
    vec3 mn = mn_cross + mn_box;
    vec3 mx = mx_cross + mx_box;
    // Distance to the signal's limits, relative to its level: little room = little sharpening.
    vec3 amp = sqrt(clamp(min(mn, 2.0 - mx) / max(mx, vec3(1e-5)), 0.0, 1.0));
    vec3 w = amp * u_peak;
    vec3 sharp = (w * (b + d + f + h) + e) / (1.0 + 4.0 * w);
    f_color = vec4(clamp(sharp, mn_box, mx_box), e4.a);
}
