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

/* The CPU's kernel features, detected once by a caller that makes many calls and handed
 * to each in the `cpu` field of fdj_decode_options / fdj_encode_params (0, what the
 * *_init functions set: the call detects them itself).  Detecting costs a CPUID, which
 * is slow under virtualisation (a VM exit).  FDJPEG_SIMD=0 in the environment still
 * forces the scalar kernels per call.  Never 0 (FDJ_CPU_DETECTED is always set). */
enum fdj_cpu_feature {
    FDJ_CPU_DETECTED = 1,   /* the value came from fdj_cpu_detect */
    FDJ_CPU_AVX2 = 2,       /* AVX2 kernels */
    FDJ_CPU_BMI = 4         /* BMI1 + BMI2 + LZCNT (the Huffman coders' builds) */
};
unsigned fdj_cpu_detect(void);

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

/* Prebuilt one-pass FD tables (fdj_rq_tables_new, below) */
typedef struct fdj_rq_tables fdj_rq_tables;

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
    unsigned cpu;           /* fdj_cpu_detect() of the caller, or 0: detect per call */
    /* Up to four prebuilt one-pass FD tables (fdj_rq_tables_new; NULL entries ignored,
     * all NULL from fdj_decode_options_init: every table the decode needs is built per
     * call).  A decode that requantizes in its Huffman decoder uses, for each component,
     * the one whose (q, T) equals the component's file table and purify table, and
     * builds only those no entry matches.  Read only; each must stay alive and unfreed
     * until the decoder is freed or opened again. */
    const fdj_rq_tables *rq_tables[FDJ_MAX_COMPONENTS];
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
/* Change the one-pass purification tables (purify_count/purify of opt, and its
 * prebuilt rq_tables) after open and before decode, e.g. once the number of
 * components and their tables (fdj_decoder_info) are known. */
int fdj_decoder_set_purify(fdj_decoder *dec, const fdj_decode_options *opt);

/* One-pass FD tables kept across decodes.  A decode with purification of a
 * single-scan sequential Huffman file at full size (8-bit) requantizes in its Huffman
 * decoder, from a table per distinct (q, T) pair of its components (q: the component's
 * quantization table, fdj_info.comp[c].qtable; T: its purify table; both natural
 * order): about 44 KB, built per call unless a prebuilt one is handed in through
 * fdj_decode_options.rq_tables.  Workloads that decode many files with the same few
 * pairs build each pair once.  Read-only once built: any number of decoders on any
 * threads may use one at the same time.  The bytes decoded are the same either way.
 * FDJ_ERR_ARGUMENT for a NULL argument or a T entry of 0, FDJ_ERR_NOMEM. */
int fdj_rq_tables_new(const uint16_t q[64], const uint16_t t[64], fdj_rq_tables **out);
/* 1 if decodes can requantize in the Huffman decoder with it, 0 if some requantized
 * table entry leaves int16 (huge q * T): decodes of that pair then requantize after
 * the Huffman decoder, as without the table (and build nothing either). */
int fdj_rq_tables_usable(const fdj_rq_tables *tables);
void fdj_rq_tables_free(fdj_rq_tables *tables);
/* The purify table opt gives component c (natural order): opt->purify[0] for all when
 * purify_count is 1, [0] luma / [1] chroma when 2, one per component when more (the
 * last repeated); NULL without purification.  The T of component c's (q, T) pair. */
const uint16_t *fdj_purify_table_for(const fdj_decode_options *opt, int c);
/* Output geometry for the options given at open. */
int fdj_decoder_output_shape(const fdj_decoder *dec, int *height, int *width,
                             int *channels);
/* Decode all pixels into out (height rows of width*channels samples, rows
 * row_stride bytes apart).  Samples are uint8_t for precision <= 8 and
 * native-endian uint16_t (2 bytes each) above: 12-bit lossy (0..4095, as
 * libjpeg-turbo 3's 12-bit decoder; scale_denom 1 only; one-pass purification
 * tables keep their 8-bit meaning and are applied scaled by 16) and 9..16-bit
 * lossless (as libjpeg-turbo, which converts no colour in lossless mode: above
 * and below 8 bits only grey, RGB and CMYK frames, native output or grey->RGB).
 * 4-component output above 8 bits follows invert_adobe_cmyk with 2^P-1 - v. */
int fdj_decoder_decode(fdj_decoder *dec, uint8_t *out, ptrdiff_t row_stride);
/* Region decode: the pixels of fdj_decoder_decode's output (same options, so the
 * coordinates are in the scaled output) from column x, row y, width x height of them,
 * into out (height rows of width*channels bytes, row_stride apart): exactly the full
 * decode cropped.  Only the MCUs the region touches (and the one-MCU ring around it
 * that fancy upsampling reads) are dequantized, IDCT'd, upsampled and colour
 * converted.  Single-scan sequential Huffman files are entropy-decoded only up to the
 * region's last MCU row (plus one for vertical upsampling context); with restart
 * markers, whole intervals before the region are skipped by scanning for their
 * markers.  Data after that row is not read, so damage or truncation there is not
 * reported.  Progressive, multi-scan and arithmetic files decode every coefficient
 * (as a full decode) and render only the region; rows before the region are walked
 * in skip mode (bit position and DC predictions only, no coefficient stored).
 * 12-bit frames (uint16 output) follow the same rules: only the blocks the region
 * reads are dequantized and IDCT'd, and a single-scan sequential Huffman file is
 * entropy-decoded only up to the region's last MCU row (restart intervals before it
 * skipped by their markers).  Lossless frames: reconstructed down to the region's
 * last row (the predictors need every row above; nothing below is read when one scan
 * holds every component, else every scan is decoded), then only the region is
 * upsampled and colour converted.  FDJ_ERR_ARGUMENT for an empty region or one
 * outside the output. */
int fdj_decoder_decode_region(fdj_decoder *dec, int x, int y, int width, int height,
                              uint8_t *out, ptrdiff_t row_stride);
/* Streaming decode: the output rows, top to bottom, a strip at a time.  Each call
 * writes up to max_rows rows (width*channels bytes each, row_stride apart) into out
 * and sets *rows_read; after the last row it returns FDJ_OK with *rows_read == 0.
 * Purification (fdj_decode_options.purify / fdj_decoder_set_purify) applies as in
 * fdj_decoder_decode, and the rows are exactly its rows.  Do not mix with
 * fdj_decoder_decode on the same open.
 *
 * Memory: for a single-scan sequential file the decoder holds, besides the input,
 *   one MCU row of coefficients    sum_c 128 * bw_c * v_c           bytes
 *   a ring of three MCU rows       sum_c 3 * v_c * s_c * bw_c * s_c bytes
 *   render scratch                 (W_out + 64) * (N + 1)           bytes
 * (bw_c = blocks of component c per row padded to whole MCUs, h_c/v_c its sampling
 * factors, s_c its IDCT size, 8 at scale 1, N components): for an 8-bit 4:2:0 colour
 * file at scale 1 that is about 48 W + 72 W + 4 (W + 64) = 124 W bytes plus about 8 KiB
 * of per-decode state (measured by csrc/tests/test_stream.c: 86,920 bytes at W = 640,
 * the same for 16 rows and 2000), whatever the height; the decoder object itself
 * (fdj_decoder_new, mostly Huffman lookup tables) is fixed-size.  A 4000-pixel-wide
 * frame: about 0.5 MB.  Progressive and multi-scan files keep
 * every coefficient (2 bytes per sample of every component) as libjpeg does.
 * Lossless and non-8-bit frames: FDJ_ERR_UNSUPPORTED.
 *
 *     fdj_decoder *dec = fdj_decoder_new();
 *     int h, w, ch, n;
 *     fdj_decoder_open(dec, jpeg, jpeg_size, &opt);   (check every status)
 *     fdj_decoder_output_shape(dec, &h, &w, &ch);
 *     uint8_t *strip = malloc((size_t)16 * w * ch);
 *     while (fdj_decoder_read_rows(dec, strip, (ptrdiff_t)w * ch, 16, &n) == FDJ_OK && n > 0)
 *         consume(strip, n);
 *     fdj_decoder_free(dec);
 */
int fdj_decoder_read_rows(fdj_decoder *dec, uint8_t *out, ptrdiff_t row_stride, int max_rows,
                          int *rows_read);
/* Bytes per output sample of the opened frame: 1 (precision <= 8) or 2. */
int fdj_decoder_sample_bytes(const fdj_decoder *dec);
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
    int precision;          /* 0 or 8: uint8 samples; 12: uint16 samples 0..4095 (2 bytes
                               each, native order; strides still in bytes), written as
                               libjpeg-turbo 3's 12-bit compressor writes them: SOF1 (SOF2
                               progressive), optimal Huffman tables always (libjpeg forces
                               them at 12 bits).  fdj_write_coefficients: the frame's P. */
    unsigned cpu;           /* fdj_cpu_detect() of the caller, or 0: detect per call */
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

/* ---- streaming encoder (sensors and other memory-bound callers) --------- */
/* Rows in, in any number at a time; the JPEG out through a callback or into the caller's
 * buffer as it is produced.  The bytes equal fdj_encode's with the same params (sequential
 * files: baseline, or extended with 16-bit tables; any tables, e.g. a two-pass Feature
 * Distillation table; restart_interval/restart_rows; JFIF/Adobe/extra segments).
 * optimize and progressive need every block before the first byte: FDJ_ERR_UNSUPPORTED.
 *
 * All memory is allocated by fdj_encode_begin, none after (fdj_encode_rows and
 * fdj_encode_end never allocate): fdj_encode_stream_memory(p) bytes, which is
 *   S + W * C * 8 v              one MCU row of input pixels (rows wait there until an
 *                                MCU row is complete)
 *   + N * 8 v * 8 h * mx         colour-converted rows of one MCU row
 *   + sum_c 64 v_c * 8 bw_c      downsampled rows of the subsampled components
 *   + sum_c 128 v_c * bw_c       quantized coefficients of one MCU row
 * (W width, C input channels, N components, h/v the largest sampling factors, mx = MCUs per
 * row, bw_c = mx * h_c blocks of component c, S = about 54 KiB of fixed state including a
 * 32 KiB output buffer): for RGB 4:2:0 that is S + 48 W + 48 W + 8 W + 48 W = S + 152 W
 * bytes, whatever the height (1920 wide: 345,256 bytes, checked against the allocations
 * by csrc/tests/test_stream.c).
 *
 * write: called with each piece of output, in order (pieces up to 32 KiB; a caller
 * segment longer than that in one piece); return 0 to go on, nonzero to abort (the
 * encoder then fails with FDJ_ERR_ARGUMENT).  Or write = NULL and out/out_capacity: the
 * JPEG is written there (FDJ_ERR_TOO_LARGE if it does not fit).
 *
 *     static int to_file(void *f, const uint8_t *d, size_t n)
 *     { return fwrite(d, 1, n, (FILE *)f) == n ? 0 : -1; }
 *
 *     fdj_encode_params p;
 *     fdj_encode_params_init(&p);
 *     p.width = 1920; p.height = 1080; p.in_color = FDJ_IN_RGB;
 *     p.h_samp[0] = p.v_samp[0] = 2;                       (4:2:0)
 *     p.num_qtables = 2;
 *     fdj_quality_table(90, 0, 1, p.qtable[0]);
 *     fdj_quality_table(90, 1, 1, p.qtable[1]);
 *     p.restart_rows = 1;
 *     fdj_encoder *enc;
 *     char msg[FDJ_MSG_SIZE];
 *     if (fdj_encode_begin(&enc, &p, to_file, fp, NULL, 0, msg) != FDJ_OK) ...;
 *     for (y = 0; y < 1080; y += 16)                        (strips of any height)
 *         if (fdj_encode_rows(enc, strip_of(y), 16, 1920 * 3, 3, 1) != FDJ_OK) ...;
 *     if (fdj_encode_end(enc, &size) != FDJ_OK) ...;       (fdj_encoder_message(enc))
 *     fdj_encoder_free(enc);
 *
 * After an error every later call returns it again; always call fdj_encoder_free. */
typedef int (*fdj_write_fn)(void *user, const uint8_t *data, size_t size);
typedef struct fdj_encoder fdj_encoder;
int fdj_encode_begin(fdj_encoder **enc, const fdj_encode_params *p, fdj_write_fn write,
                     void *user, uint8_t *out, size_t out_capacity, char msg[FDJ_MSG_SIZE]);
/* Rows y .. y+rows-1 of the image (in order; element (r, x, c) at
 * pixels + r*row_stride + x*col_stride + c*chan_stride); an MCU row is coded as soon as
 * its last row arrives. */
int fdj_encode_rows(fdj_encoder *enc, const uint8_t *pixels, int rows, ptrdiff_t row_stride,
                    ptrdiff_t col_stride, ptrdiff_t chan_stride);
/* After the last row: flush and write EOI; *out_size = bytes of the JPEG. */
int fdj_encode_end(fdj_encoder *enc, size_t *out_size);
const char *fdj_encoder_message(const fdj_encoder *enc);
void fdj_encoder_free(fdj_encoder *enc);
/* Bytes fdj_encode_begin allocates for these params (0 if they are refused). */
size_t fdj_encode_stream_memory(const fdj_encode_params *p);

/* ---- fused purification (pixels in, pixels out) ------------------------- */
/* Equal, bit for bit, to decoding fdj_encode(pixels) with the same params
 * (colour conversion, downsampling, FDCT, quantize/dequantize, IDCT, upsampling,
 * colour conversion), without entropy coding.  out has height rows of
 * width*channels bytes (channels = 1 gray, 3 RGB), row_stride apart.
 * p->precision 12: uint16 samples 0..4095 in and out (2 bytes each, strides in
 * bytes), equal to libjpeg-turbo 3's 12-bit decode of fdj_encode's 12-bit file;
 * p->qtable are then the 12-bit quantizers (fdjpeg.purify passes 16 T for an
 * 8-bit table T, the meaning decode(purify=T) gives T at 12 bits). */
int fdj_purify(const fdj_encode_params *p, const uint8_t *pixels, ptrdiff_t row_stride,
               ptrdiff_t col_stride, ptrdiff_t chan_stride, uint8_t *out,
               ptrdiff_t out_row_stride, char msg[FDJ_MSG_SIZE]);
/* fdj_purify of count images of one shape (image i at pixels + i * image_stride,
 * its output at out + i * out_image_stride), handed out one at a time to
 * `threads` threads (the calling thread is one of them; at most count).  The
 * result is the same for every number of threads; on failure the status and
 * message of the first image in batch order that failed. */
int fdj_purify_batch(const fdj_encode_params *p, size_t count, const uint8_t *pixels,
                     ptrdiff_t image_stride, ptrdiff_t row_stride, ptrdiff_t col_stride,
                     ptrdiff_t chan_stride, uint8_t *out, ptrdiff_t out_image_stride,
                     ptrdiff_t out_row_stride, int threads, char msg[FDJ_MSG_SIZE]);

/* A purifier: params' tables, sampling, colour and precision (its width, height
 * and extra segments are ignored) checked and turned into the kernels' constants
 * once, for any number of fdj_purifier_run calls on images of any size, from any
 * number of threads at once (it is read-only after fdj_purifier_new).  This is
 * what fdj_purify and fdj_purify_batch make and free on every call. */
typedef struct fdj_purifier fdj_purifier;
int fdj_purifier_new(const fdj_encode_params *p, fdj_purifier **out, char msg[FDJ_MSG_SIZE]);
void fdj_purifier_free(fdj_purifier *pf);
/* fdj_purify_batch with the purifier's parameters for width x height images;
 * each thread sets up its buffers once for all of its images. */
int fdj_purifier_run(const fdj_purifier *pf, int width, int height, size_t count,
                     const uint8_t *pixels, ptrdiff_t image_stride, ptrdiff_t row_stride,
                     ptrdiff_t col_stride, ptrdiff_t chan_stride, uint8_t *out,
                     ptrdiff_t out_image_stride, ptrdiff_t out_row_stride, int threads,
                     char msg[FDJ_MSG_SIZE]);

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
