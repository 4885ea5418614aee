// libjpeg-turbo's libjpeg API (jpeglib.h needs stdio.h's FILE first), plus one decode helper.
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

// libjpeg reports a fatal error by calling error_exit, which must not return; the default calls exit(). C's way
// out is setjmp/longjmp, which Swift cannot use, so the whole decode lives here and Swift sees only a status.

struct convlens_jpeg_error {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    int warned;
};

static inline void convlens_jpeg_error_exit(j_common_ptr info) {
    struct convlens_jpeg_error *error = (struct convlens_jpeg_error *)info->err;
    (*info->err->format_message)(info, error->message);
    longjmp(error->jump, 1);
}

// Warnings (negative levels) mean corrupt or truncated data that libjpeg would patch over with gray: keep the
// first, so the decode can be refused. Trace messages (levels >= 0) are dropped.
static inline void convlens_jpeg_emit_message(j_common_ptr info, int level) {
    struct convlens_jpeg_error *error = (struct convlens_jpeg_error *)info->err;
    if (level < 0 && !error->warned) {
        error->warned = 1;
        (*info->err->format_message)(info, error->message);
    }
}

// Decodes `size` bytes of JPEG into a malloc'ed buffer (free() it) of width × height × channels bytes: gray
// files give 1 channel, YCbCr and RGB files 3. Returns 0 on success; otherwise 1 with libjpeg's message (fatal
// error or corrupt data), 2 for CMYK/YCCK files, 3 when the image would exceed `max_bytes`.
static inline int convlens_jpeg_decode(const unsigned char *data, unsigned long size, size_t max_bytes,
                                       unsigned char **pixels, int *width, int *height, int *channels,
                                       char *message, size_t message_size) {
    struct jpeg_decompress_struct info;
    struct convlens_jpeg_error error;
    unsigned char *volatile buffer = NULL;
    memset(&info, 0, sizeof info);
    memset(&error, 0, sizeof error);
    info.err = jpeg_std_error(&error.manager);
    error.manager.error_exit = convlens_jpeg_error_exit;
    error.manager.emit_message = convlens_jpeg_emit_message;
    if (setjmp(error.jump)) {
        jpeg_destroy_decompress(&info);
        free(buffer);
        snprintf(message, message_size, "%s", error.message);
        return 1;
    }
    jpeg_create_decompress(&info);
    /* libjpeg's own buffers (a progressive image's coefficients: 2 bytes per sample) are capped too: past the cap it
       stops with "insufficient memory" instead of allocating what a tiny file declares. */
    info.mem->max_memory_to_use = (long)(2 * max_bytes);
    jpeg_mem_src(&info, data, size);
    jpeg_read_header(&info, TRUE);
    /* The declared size is checked before jpeg_start_decompress allocates anything for it. */
    size_t declared = (size_t)info.image_width * (size_t)info.num_components * (size_t)info.image_height;
    if (declared > max_bytes) {
        snprintf(message, message_size, "declares %ux%u pixels (%zu bytes decoded); images are at most %zu bytes decoded",
                 info.image_width, info.image_height, declared, max_bytes);
        jpeg_destroy_decompress(&info);
        return 3;
    }
    if (info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK) {
        jpeg_destroy_decompress(&info);
        snprintf(message, message_size, "CMYK JPEG images are not supported");
        return 2;
    }
    info.out_color_space = info.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&info);
    size_t row = (size_t)info.output_width * (size_t)info.output_components;
    if (row == 0 || row * info.output_height > max_bytes) {
        jpeg_destroy_decompress(&info);
        snprintf(message, message_size, "image of %ux%u is too large", info.output_width, info.output_height);
        return 3;
    }
    buffer = (unsigned char *)malloc(row * info.output_height);
    if (buffer == NULL) {
        jpeg_destroy_decompress(&info);
        snprintf(message, message_size, "out of memory");
        return 3;
    }
    while (info.output_scanline < info.output_height) {
        JSAMPROW line = buffer + row * info.output_scanline;
        jpeg_read_scanlines(&info, &line, 1);
    }
    jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
    if (error.warned) {
        free(buffer);
        snprintf(message, message_size, "%s", error.message);
        return 1;
    }
    *pixels = buffer;
    *width = (int)info.output_width;
    *height = (int)info.output_height;
    *channels = info.output_components;
    return 0;
}
