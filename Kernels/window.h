// Sliding-window geometry shared by convolution and pooling, as -D defines (defaults describe a 1×1 window):
// kernel KH×KW, stride SH×SW, dilation DH×DW, top/left padding PT, PL. Bottom/right padding only changes the
// output size, which the host computes, except for PyTorch's average-pool divisor (PB, PR in pool2d.cl).
// Tap (kh, kw) of output (oh, ow) reads input row oh·SH − PT + kh·DH and column ow·SW − PL + kw·DW.

#ifndef CONVLENS_WINDOW_H
#define CONVLENS_WINDOW_H

#ifndef KH
#define KH 1
#endif
#ifndef KW
#define KW 1
#endif
#ifndef SH
#define SH 1
#endif
#ifndef SW
#define SW 1
#endif
#ifndef DH
#define DH 1
#endif
#ifndef DW
#define DW 1
#endif
#ifndef PT
#define PT 0
#endif
#ifndef PL
#define PL 0
#endif

#endif
