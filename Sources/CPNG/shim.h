// libpng's simplified API (png_image_*): whole-image reads and writes without setjmp error handling.
#include <png.h>
