# Declarations of the C API in csrc/fdjpeg.h -- nothing else lives here.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int16_t

cdef extern from "fdjpeg.h" nogil:
    enum:
        FDJ_OK
        FDJ_ERR_CORRUPT
        FDJ_ERR_UNSUPPORTED
        FDJ_ERR_TOO_LARGE
        FDJ_ERR_NOMEM
        FDJ_ERR_ARGUMENT
        FDJ_ERR_TRUNCATED
        FDJ_ERR_NOT_JPEG
        FDJ_MAX_COMPONENTS
        FDJ_MSG_SIZE
        FDJ_CS_UNKNOWN
        FDJ_CS_GRAY
        FDJ_CS_RGB
        FDJ_CS_YCBCR
        FDJ_CS_CMYK
        FDJ_CS_YCCK
        FDJ_OUT_NATIVE
        FDJ_OUT_RGB
        FDJ_OUT_GRAY
        FDJ_IN_GRAY
        FDJ_IN_RGB
        FDJ_IN_CMYK

    const char *fdj_status_string(int status)
    const char *fdj_version()
    const char *fdj_kernel_name()
    unsigned fdj_cpu_detect()

    ctypedef struct fdj_component_info:
        int id, h, v, tq
        int width_in_blocks, height_in_blocks
        int downsampled_width, downsampled_height
        uint16_t qtable[64]

    ctypedef struct fdj_info:
        int width, height, num_components, sof, progressive, arithmetic, lossless
        int precision, jpeg_color, max_h, max_v, mcus_x, mcus_y, restart_interval
        fdj_component_info comp[4]
        uint16_t qtable[4][64]
        int qtable_bits[4]
        int has_jfif, jfif_major, jfif_minor, density_unit, x_density, y_density
        int has_adobe, adobe_transform, num_scans

    ctypedef struct fdj_rq_tables:
        pass

    ctypedef struct fdj_decode_options:
        uint64_t max_pixels
        int max_scans
        uint64_t max_segment_bytes
        int allow_truncated
        int out_format
        int scale_denom
        int invert_adobe_cmyk
        int purify_count
        uint16_t purify[4][64]
        unsigned cpu
        const fdj_rq_tables *rq_tables[4]

    ctypedef struct fdj_marker:
        uint8_t marker
        uint32_t offset
        uint32_t length

    ctypedef struct fdj_decoder:
        pass

    void fdj_decode_options_init(fdj_decode_options *opt)
    fdj_decoder *fdj_decoder_new()
    void fdj_decoder_free(fdj_decoder *dec)
    int fdj_decoder_open(fdj_decoder *dec, const uint8_t *data, size_t size,
                         const fdj_decode_options *opt)
    const fdj_info *fdj_decoder_info(const fdj_decoder *dec)
    int fdj_decoder_set_purify(fdj_decoder *dec, const fdj_decode_options *opt)
    int fdj_rq_tables_new(const uint16_t *q, const uint16_t *t, fdj_rq_tables **out)
    int fdj_rq_tables_usable(const fdj_rq_tables *tables)
    void fdj_rq_tables_free(fdj_rq_tables *tables)
    const uint16_t *fdj_purify_table_for(const fdj_decode_options *opt, int c)
    int fdj_decoder_output_shape(const fdj_decoder *dec, int *height, int *width, int *channels)
    int fdj_decoder_decode(fdj_decoder *dec, uint8_t *out, ptrdiff_t row_stride)
    int fdj_decoder_decode_region(fdj_decoder *dec, int x, int y, int width, int height,
                                  uint8_t *out, ptrdiff_t row_stride)
    int fdj_decoder_read_rows(fdj_decoder *dec, uint8_t *out, ptrdiff_t row_stride,
                              int max_rows, int *rows_read)
    int fdj_decoder_sample_bytes(const fdj_decoder *dec)
    int fdj_decoder_read_coefficients(fdj_decoder *dec, int16_t *const *coef)
    const fdj_marker *fdj_decoder_markers(const fdj_decoder *dec, size_t *count)
    const char *fdj_decoder_message(const fdj_decoder *dec)
    int fdj_decoder_was_truncated(const fdj_decoder *dec)

    ctypedef struct fdj_encode_params:
        int width, height, in_color, keep_rgb
        int h_samp[4]
        int v_samp[4]
        int num_qtables
        uint16_t qtable[4][64]
        int comp_qtable[4]
        int optimize, progressive, restart_interval, restart_rows
        int write_jfif, density_unit, x_density, y_density, write_adobe
        const uint8_t *extra_segments
        size_t extra_size
        uint64_t max_pixels
        int precision
        unsigned cpu

    void fdj_encode_params_init(fdj_encode_params *p)
    void fdj_quality_table(int quality, int chroma, int force_baseline, uint16_t *out)
    int fdj_encode(const fdj_encode_params *p, const uint8_t *pixels, ptrdiff_t row_stride,
                   ptrdiff_t col_stride, ptrdiff_t chan_stride, uint8_t **out, size_t *out_size,
                   char *msg)
    int fdj_write_coefficients(const fdj_encode_params *p, const int16_t *const *coef,
                               uint8_t **out, size_t *out_size, char *msg)
    void fdj_free(void *ptr)
    int fdj_purify(const fdj_encode_params *p, const uint8_t *pixels, ptrdiff_t row_stride,
                   ptrdiff_t col_stride, ptrdiff_t chan_stride, uint8_t *out,
                   ptrdiff_t out_row_stride, char *msg)
    int fdj_purify_batch(const fdj_encode_params *p, size_t count, const uint8_t *pixels,
                         ptrdiff_t image_stride, ptrdiff_t row_stride, ptrdiff_t col_stride,
                         ptrdiff_t chan_stride, uint8_t *out, ptrdiff_t out_image_stride,
                         ptrdiff_t out_row_stride, int threads, char *msg)
    ctypedef struct fdj_purifier:
        pass
    int fdj_purifier_new(const fdj_encode_params *p, fdj_purifier **out, char *msg)
    void fdj_purifier_free(fdj_purifier *pf)
    int fdj_purifier_run(const fdj_purifier *pf, int width, int height, size_t count,
                         const uint8_t *pixels, ptrdiff_t image_stride, ptrdiff_t row_stride,
                         ptrdiff_t col_stride, ptrdiff_t chan_stride, uint8_t *out,
                         ptrdiff_t out_image_stride, ptrdiff_t out_row_stride, int threads,
                         char *msg)
    int fdj_requantize_coefficients(const int16_t *coef, size_t num_blocks,
                                    const uint16_t *qfile, const uint16_t *table,
                                    int16_t *out, char *msg)
    void fdj_scale_qtable(const uint16_t *base, int quality, int force_baseline,
                          uint16_t *out)
