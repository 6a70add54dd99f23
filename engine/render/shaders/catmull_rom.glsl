// Catmull-Rom weights for the 4 taps at offsets -1, 0, +1, +2 around the texel left of the sample.
vec4 catmull_rom_weights(float f) {
    return vec4(
        f * (-0.5 + f * (1.0 - 0.5 * f)),
        1.0 + f * f * (-2.5 + 1.5 * f),
        f * (0.5 + f * (2.0 - 1.5 * f)),
        f * f * (-0.5 + 0.5 * f)
    );
}
