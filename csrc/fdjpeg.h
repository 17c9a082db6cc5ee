/*
 * fdjpeg.h -- public C API of the fdjpeg codec.
 *
 * A JPEG (ITU-T T.81) encoder and decoder that matches libjpeg-turbo bit for bit
 * (ISLOW DCTs, fancy upsampling, libjpeg's fixed-point colour conversion) and
 * carries Feature Distillation (Liu et al., CVPR 2019): requantization of the
 * dequantized coefficients before the IDCT ("one-pass"), and encoding with a
 * defensive table ("two-pass").
 *
 * Plain C99, no globals, no I/O, no exit(). Every function that can fail returns
 * an fdj_status (0 ok, negative error); decoders and encoders also keep a
 * human-readable message saying what went wrong and where.
 *
 * Tables are always given and returned in natural (row-major) order, 64 entries.
 */
#ifndef FDJPEG_H
#define FDJPEG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FDJ_VERSION_MAJOR 0
#define FDJ_VERSION_MINOR 1
#define FDJ_VERSION_PATCH 0
#define FDJ_VERSION_STRING "0.1.0"

/* ---- status codes ------------------------------------------------------ */
enum fdj_status {
    FDJ_OK = 0,
    FDJ_ERR_CORRUPT = -1,     /* malformed JPEG data */
    FDJ_ERR_UNSUPPORTED = -2, /* a valid JPEG feature fdjpeg does not decode */
    FDJ_ERR_TOO_LARGE = -3,   /* over a configured limit (pixels, scans, bytes) */
    FDJ_ERR_NOMEM = -4,       /* allocation failed */
    FDJ_ERR_ARGUMENT = -5,    /* caller misuse (bad parameter) */
    FDJ_ERR_TRUNCATED = -6,   /* data ends before EOI */
    FDJ_ERR_NOT_JPEG = -7     /* does not start with SOI */
};

/* Static one-line description of a status code (never NULL). */
const char *fdj_status_string(int status);

/* Version of the compiled library, e.g. "0.1.0". */
const char *fdj_version(void);

/* Which kernels are active ("scalar", "sse2", "avx2"), for diagnostics. */
const char *fdj_kernel_name(void);

#define FDJ_MAX_COMPONENTS 4
#define FDJ_MSG_SIZE 160
#define FDJ_DEFAULT_MAX_PIXELS 178956970ULL /* Pillow's 2 * 89,478,485 */
#define FDJ_DEFAULT_MAX_SCANS 1000

/* colour spaces of the stored components (libjpeg's jpeg_color_space) */
enum fdj_colorspace {
    FDJ_CS_UNKNOWN = 0,
    FDJ_CS_GRAY = 1,
    FDJ_CS_RGB = 2,
    FDJ_CS_YCBCR = 3,
    FDJ_CS_CMYK = 4,
    FDJ_CS_YCCK = 5
};

/* ---- frame description (filled by the decoder's header parse) ----------- */
typedef struct fdj_component_info {
    int id;                 /* component identifier Ci */
    int h, v;               /* sampling factors */
    int tq;                 /* quantization table slot, the SOF byte (0..255): as in libjpeg
                               it is checked (0..3, defined) when the component's first scan
                               starts, so a component outside the first scan may show a bad
                               slot here, with qtable all zero */
    int width_in_blocks;    /* ceil(ceil(W*h/hmax)/8), as libjpeg/jpeglib */
    int height_in_blocks;
    int downsampled_width;  /* ceil(W*h/hmax) */
    int downsampled_height;
    uint16_t qtable[64];    /* the table this component was (or will be) dequantized with */
} fdj_component_info;

typedef struct fdj_info {
    int width, height;
    int num_components;
    int sof;                /* frame marker: 0,1,2,3,9,10 (0xC0 + n) */
    int progressive;        /* SOF2 / SOF10 */
    int arithmetic;         /* SOF9 / SOF10 */
    int lossless;           /* SOF3 */
    int precision;          /* sample precision P */
    int jpeg_color;         /* enum fdj_colorspace */
    int max_h, max_v;
    int mcus_x, mcus_y;     /* MCUs of an interleaved scan */
    int restart_interval;   /* last DRI seen before the first scan */
    fdj_component_info comp[FDJ_MAX_COMPONENTS];
    uint16_t qtable[4][64]; /* DQT slots as defined at the first SOS */
    int qtable_bits[4];     /* 0 undefined, 8 or 16 */
    int has_jfif, jfif_major, jfif_minor, density_unit, x_density, y_density;
    int has_adobe, adobe_transform;
    int num_scans;          /* scans read so far (complete after a decode) */
} fdj_info;

/* ---- decoder ------------------------------------------------------------- */
enum fdj_out_format {
    FDJ_OUT_NATIVE = 0,     /* gray -> 1 channel, YCbCr/RGB -> RGB, CMYK/YCCK -> CMYK (4) */
    FDJ_OUT_RGB = 1,        /* always 3 channels (gray replicated, CMYK converted as Pillow) */
    FDJ_OUT_GRAY = 2        /* always 1 channel (luma) */
};

typedef struct fdj_decode_options {
    uint64_t max_pixels;    /* 0 -> FDJ_DEFAULT_MAX_PIXELS */
    int max_scans;          /* 0 -> FDJ_DEFAULT_MAX_SCANS */
    uint64_t max_segment_bytes; /* total bytes of non-entropy segments; 0 -> 64 MiB */
    int allow_truncated;    /* data cut before EOI: fill the rest with zero coefficients */
    int out_format;         /* enum fdj_out_format */
    int scale_denom;        /* 1, 2, 4 or 8: reduced-size IDCT (libjpeg scale 1/n) */
    int invert_adobe_cmyk;  /* invert 4-component output as Pillow does (rawmode CMYK;I, every 4-component file) */
    /* One-pass Feature Distillation: after dequantization each coefficient
     * D = c * Qfile is replaced by T * round(D / T) (half away from zero).
     * purify_count: 0 = off; 1 = purify[0] for every component;
     * 2 = purify[0] for component 0, purify[1] for the others (Pillow's slots);
     * n = num_components: one table per component.  Entries 1..65535. */
    int purify_count;
    uint16_t purify[FDJ_MAX_COMPONENTS][64];
} fdj_decode_options;

typedef struct fdj_marker {
    uint8_t marker;         /* second byte, e.g. 0xE0 for APP0 */
    uint32_t offset;        /* offset of the 0xFF byte in the data */
    uint32_t length;        /* segment length field (0 for SOI/EOI/RSTn); for a segment cut
                               off by the end of the data (allow_truncated), the bytes present:
                               offset + 2 + length never passes the end of the caller's data */
} fdj_marker;

typedef struct fdj_decoder fdj_decoder;

void fdj_decode_options_init(fdj_decode_options *opt);
fdj_decoder *fdj_decoder_new(void);
void fdj_decoder_free(fdj_decoder *dec);

/* Parse markers up to the first SOS (the data must stay alive until the
 * decoder is freed or reopened).  Fills the info; no pixel work. */
int fdj_decoder_open(fdj_decoder *dec, const uint8_t *data, size_t size,
                     const fdj_decode_options *opt);
const fdj_info *fdj_decoder_info(const fdj_decoder *dec);
/* Change the one-pass purification tables (purify_count/purify of opt) after
 * open and before decode, e.g. once the number of components is known. */
int fdj_decoder_set_purify(fdj_decoder *dec, const fdj_decode_options *opt);
/* Output geometry for the options given at open. */
int fdj_decoder_output_shape(const fdj_decoder *dec, int *height, int *width,
                             int *channels);
/* Decode all pixels into out (height rows of width*channels bytes, rows
 * row_stride bytes apart). */
int fdj_decoder_decode(fdj_decoder *dec, uint8_t *out, ptrdiff_t row_stride);
/* Decode entropy data only and write the quantized coefficients (no purify)
 * per component: height_in_blocks * width_in_blocks blocks of 64 int16 in
 * natural order, row-major over blocks. coef[c] must hold that many. */
int fdj_decoder_read_coefficients(fdj_decoder *dec, int16_t *const coef[]);
/* Markers seen so far (all of them after a decode).  With allow_truncated, the EOI
 * that the decoder appends to truncated data (as Pillow does) is listed last, at
 * offset == size, outside the caller's bytes. */
const fdj_marker *fdj_decoder_markers(const fdj_decoder *dec, size_t *count);
/* Message describing the last error (empty string if none). */
const char *fdj_decoder_message(const fdj_decoder *dec);
/* Nonzero if the last decode had to fill missing data (truncated input). */
int fdj_decoder_was_truncated(const fdj_decoder *dec);

/* ---- encoder ------------------------------------------------------------- */
enum fdj_in_color {
    FDJ_IN_GRAY = 1,        /* 1 channel */
    FDJ_IN_RGB = 3,         /* 3 channels, stored as YCbCr (or RGB with keep_rgb) */
    FDJ_IN_CMYK = 4         /* 4 channels, stored inverted (Adobe/Pillow convention) with an
                               Adobe marker, so Pillow and fdjpeg decode the original values */
};

typedef struct fdj_encode_params {
    int width, height;
    int in_color;           /* enum fdj_in_color */
    int keep_rgb;           /* store RGB without colour transform (Adobe transform 0) */
    int h_samp[FDJ_MAX_COMPONENTS], v_samp[FDJ_MAX_COMPONENTS]; /* all 1 -> 4:4:4 */
    int num_qtables;        /* slots used, 1..4 */
    uint16_t qtable[4][64]; /* natural order, 1..65535 (>255 -> 16-bit DQT, SOF1) */
    int comp_qtable[FDJ_MAX_COMPONENTS]; /* slot of each component */
    int optimize;           /* optimal Huffman tables (two passes) */
    int progressive;        /* SOF2 with libjpeg's default scan script */
    int restart_interval;   /* MCUs between restart markers, 0 = none */
    int restart_rows;       /* if >0, restart every this many MCU rows (overrides) */
    int write_jfif;         /* APP0 JFIF 1.01 */
    int density_unit, x_density, y_density;
    int write_adobe;        /* APP14 Adobe (used for CMYK and keep_rgb) */
    const uint8_t *extra_segments; /* complete marker segments (APPn/COM) written after APP0 */
    size_t extra_size;
    uint64_t max_pixels;    /* 0 -> FDJ_DEFAULT_MAX_PIXELS */
} fdj_encode_params;

/* Defaults: 4:4:4, no tables (caller must set), JFIF on, density 1x1 unit 0. */
void fdj_encode_params_init(fdj_encode_params *p);
/* libjpeg quality scaling (jpeg_quality_scaling + jpeg_add_quant_table), natural
 * order.  force_baseline clamps entries to 1..255 (as Pillow's quality=). */
void fdj_quality_table(int quality, int chroma, int force_baseline, uint16_t out[64]);

/* Encode pixels; element (y, x, c) is at pixels + y*row_stride + x*col_stride + c*chan_stride
 * (strides in bytes, may be negative).  On success *out is a malloc'ed JPEG that the
 * caller releases with fdj_free(). */
int fdj_encode(const fdj_encode_params *p, const uint8_t *pixels, ptrdiff_t row_stride,
               ptrdiff_t col_stride, ptrdiff_t chan_stride, uint8_t **out, size_t *out_size,
               char msg[FDJ_MSG_SIZE]);
/* Write quantized coefficients (per component, layout as fdj_decoder_read_coefficients,
 * sizes implied by width/height/sampling) as a JPEG: lossless transcoding. */
int fdj_write_coefficients(const fdj_encode_params *p, const int16_t *const coef[],
                           uint8_t **out, size_t *out_size, char msg[FDJ_MSG_SIZE]);
void fdj_free(void *ptr);

/* ---- fused purification (pixels in, pixels out) ------------------------- */
/* Equal, bit for bit, to decoding fdj_encode(pixels) with the same params
 * (colour conversion, downsampling, FDCT, quantize/dequantize, IDCT, upsampling,
 * colour conversion), without entropy coding.  out has height rows of
 * width*channels bytes (channels = 1 gray, 3 RGB), row_stride apart. */
int fdj_purify(const fdj_encode_params *p, const uint8_t *pixels, ptrdiff_t row_stride,
               ptrdiff_t col_stride, ptrdiff_t chan_stride, uint8_t *out,
               ptrdiff_t out_row_stride, char msg[FDJ_MSG_SIZE]);
/* fdj_purify of count images of one shape (image i at pixels + i * image_stride,
 * its output at out + i * out_image_stride), split into contiguous shares over
 * `threads` threads (the calling thread is one of them; at most count).  The
 * result is the same for every number of threads; on failure the status and
 * message of the first image in batch order that failed. */
int fdj_purify_batch(const fdj_encode_params *p, size_t count, const uint8_t *pixels,
                     ptrdiff_t image_stride, ptrdiff_t row_stride, ptrdiff_t col_stride,
                     ptrdiff_t chan_stride, uint8_t *out, ptrdiff_t out_image_stride,
                     ptrdiff_t out_row_stride, int threads, char msg[FDJ_MSG_SIZE]);

/* ---- table arithmetic (transcode.c) ------------------------------------- */
/* Coefficient-domain Feature Distillation ("transcode"): num_blocks blocks of 64 quantized
 * coefficients (natural order), quantized with qfile, requantized to table:
 * out = round(coef * qfile / table), half away from zero -- the requantizer of the
 * one-pass decode, so the coefficients written with table decode exactly like a decode
 * with purify = table.  out may equal coef.  FDJ_ERR_ARGUMENT for a zero entry or a
 * result outside int16. */
int fdj_requantize_coefficients(const int16_t *coef, size_t num_blocks,
                                const uint16_t qfile[64], const uint16_t table[64],
                                int16_t *out, char msg[FDJ_MSG_SIZE]);
/* libjpeg's quality scaling of any base table (jpeg_quality_scaling +
 * jpeg_add_quant_table): quality clamped to 1..100, entries clamped to 1..32767, or to
 * 1..255 with force_baseline. */
void fdj_scale_qtable(const uint16_t base[64], int quality, int force_baseline,
                      uint16_t out[64]);

#ifdef __cplusplus
}
#endif
#endif /* FDJPEG_H */
