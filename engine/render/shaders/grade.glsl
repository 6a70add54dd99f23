// The colour grade (hue, saturation, contrast, brightness, intensity, blackout) is affine, so
// Python folds it into a matrix and an offset. Without a hue shift the matrix is a gain plus a
// luma term, which llvmpipe runs markedly faster than a full 3×3 product (variant HUE).
// No clamp: the unorm8 target saturates on write.
uniform vec3 u_grade_offset;
#ifdef HUE
uniform mat3 u_grade;
#else
uniform float u_grade_gain;
uniform float u_grade_luma;
#endif

vec3 grade(vec3 c) {
#ifdef HUE
    return u_grade * c + u_grade_offset;
#else
    return u_grade_gain * c + (u_grade_luma * dot(c, LUMA) + u_grade_offset);
#endif
}
