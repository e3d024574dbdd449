pragma circom 2.0.0;
// x < 2^n, and y = x*x + x + 7 (a public square-and-add "hash").
template Range(n) {
    signal input x;
    signal output y;
    signal bits[n];
    var acc = 0;
    var e = 1;
    for (var i = 0; i < n; i++) {
        bits[i] <-- (x >> i) & 1;
        bits[i] * (bits[i] - 1) === 0;
        acc += bits[i] * e;
        e = e + e;
    }
    acc === x;
    signal sq;
    sq <== x * x;
    y <== sq + x + 7;
}
component main = Range(16);
