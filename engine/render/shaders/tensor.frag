#version 330 core
// The smoothed structure tensor for the Kuwahara pass, at a quarter of the output size per axis
// (16× fewer pixels): Sobel gradients of the colour on a 5×5 grid of taps `u_step` apart, their
// tensors summed with 1-2-1 weights. The picture holds nothing finer than a generator texel, so
// this low resolution loses nothing the orientation could use.
in vec2 v_uv;
out vec4 f_tensor;  // (E, G, F, 0): [[E, F], [F, G]], summed over the colour channels

uniform sampler2D u_src;  // the upscaled picture, sampled bilinearly
uniform vec2 u_step;      // tap distance in texture coordinates

void main() {
    vec3 c[25];
    for (int j = 0; j < 5; j++) {
        for (int i = 0; i < 5; i++) {
            c[j * 5 + i] = texture(u_src, v_uv + vec2(float(i - 2), float(j - 2)) * u_step).rgb;
        }
    }
    vec3 t = vec3(0.0);
    for (int j = 1; j < 4; j++) {
        for (int i = 1; i < 4; i++) {
            int k = j * 5 + i;
            vec3 gx = (c[k - 4] + 2.0 * c[k + 1] + c[k + 6]) - (c[k - 6] + 2.0 * c[k - 1] + c[k + 4]);
            vec3 gy = (c[k + 4] + 2.0 * c[k + 5] + c[k + 6]) - (c[k - 6] + 2.0 * c[k - 5] + c[k - 4]);
            float w = float((2 - abs(i - 2)) * (2 - abs(j - 2)));
            t += w * vec3(dot(gx, gx), dot(gy, gy), dot(gx, gy));
        }
    }
    f_tensor = vec4(t / 16.0, 0.0);
}
