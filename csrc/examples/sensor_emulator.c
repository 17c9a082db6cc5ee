/*
 * sensor_emulator.c -- two-pass Feature Distillation on the sensor side, the way firmware
 * would run it: pixels arrive a strip of rows at a time, each strip goes straight into the
 * streaming encoder (fdj_encode_begin / fdj_encode_rows / fdj_encode_end), the JPEG leaves
 * through a callback, and the only buffers are one strip and the encoder's few MCU rows
 * (fdj_encode_stream_memory).  Every JPEG carries the DNN-oriented table in its DQT, so a
 * standard decoder reads it and decoding with purify = the same table changes nothing.
 *
 *   sensor_emulator [options] in.ppm out_prefix      frames from a file (binary PPM, P6,
 *                                                    8-bit; frames may be concatenated)
 *   sensor_emulator [options] -S WxH -n N [out_prefix]  frames from a simulated sensor
 *
 *   -t TABLE.txt  libjpeg -qtables text (64 integers, natural order; what
 *                 `fdjpeg tables --export` writes); default: the package's FD table
 *                 (20 in the 15 accuracy-sensitive bands, 30 elsewhere)
 *   -s 444|420    chroma sampling (default 444: keeps the FD grid in chroma)
 *   -r MCUS       restart interval in MCUs (default 0)
 *   -k ROWS       strip height: rows the sensor delivers at a time (default 16)
 *   -S WxH -n N   simulate N frames of a WxH sensor (a moving scene with shot noise)
 *   -w            simulated mode: also write each raw frame as out_prefixNNNN.ppm
 *   -c            check each JPEG on the receiving side: decode it strip by strip
 *                 (fdj_decoder_read_rows) plain and purified with the table, and require
 *                 the same pixels (the two-pass identity)
 *
 * Frames are written to out_prefix0000.jpg, out_prefix0001.jpg, ...  At the end a report:
 * frames, size, frame rate and pixel throughput of the encode loop, bytes per frame, memory.
 *
 * Build: cc -O2 -Icsrc csrc/examples/sensor_emulator.c csrc/[a-z]*.c -lm -o sensor_emulator
 *    or: make -C csrc && cc -Icsrc sensor_emulator.c csrc/build/libfdjpeg.a -lm
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fdjpeg.h"

/* fdjpeg.tables.feature_distillation() with the shipped band statistics */
static const uint16_t default_fd_table[64] = {
    20, 20, 20, 20, 20, 30, 30, 30, 20, 20, 20, 20, 30, 30, 30, 30,
    20, 20, 20, 30, 30, 30, 30, 30, 20, 20, 30, 30, 30, 30, 30, 30,
    20, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
    30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30};

static int read_table(const char *path, uint16_t t[64])
{
    FILE *f = fopen(path, "r");
    int n = 0, c;
    if (!f)
        return -1;
    while (n < 64) {
        long v;
        c = fgetc(f);
        if (c == EOF)
            break;
        if (c == '#') { /* comment to end of line */
            while (c != '\n' && c != EOF)
                c = fgetc(f);
            continue;
        }
        if (c < '0' || c > '9')
            continue;
        ungetc(c, f);
        if (fscanf(f, "%ld", &v) != 1 || v < 1 || v > 65535)
            break;
        t[n++] = (uint16_t)v;
    }
    fclose(f);
    return n == 64 ? 0 : -1;
}

/* ---- frame sources: both deliver a frame a strip at a time ---- */

typedef struct source {
    FILE *ppm;                  /* file source, or NULL: simulated */
    int w, h;
    int frame;                  /* simulated: frame index */
    uint32_t noise;             /* simulated: noise generator state */
} source;

/* PPM header token: skips whitespace and comments */
static int ppm_int(FILE *f, int *out)
{
    int c;
    do {
        c = fgetc(f);
        if (c == '#')
            while (c != '\n' && c != EOF)
                c = fgetc(f);
    } while (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '#');
    if (c == EOF)
        return -1;
    ungetc(c, f);
    return fscanf(f, "%d", out) == 1 ? 0 : -1;
}

/* Start the next frame: 1 ok, 0 no more frames, -1 bad input. */
static int frame_start(source *s, int frames_wanted)
{
    int c0, c1, maxval;
    if (!s->ppm)
        return s->frame < frames_wanted ? 1 : 0;
    do
        c0 = fgetc(s->ppm);
    while (c0 == '\n' || c0 == ' ' || c0 == '\r' || c0 == '\t');
    if (c0 == EOF)
        return 0;
    c1 = fgetc(s->ppm);
    if (c0 != 'P' || c1 != '6' || ppm_int(s->ppm, &s->w) || ppm_int(s->ppm, &s->h) ||
        ppm_int(s->ppm, &maxval) || maxval != 255 || s->w <= 0 || s->h <= 0 || s->w > 65535 ||
        s->h > 65535)
        return -1;
    fgetc(s->ppm); /* the single whitespace after maxval */
    return 1;
}

/* Rows y .. y+n-1 of the current frame into strip (n rows of w*3 bytes): 0 ok, -1 short. */
static int frame_rows(source *s, uint8_t *strip, int y, int n)
{
    int r, x;
    if (s->ppm)
        return fread(strip, 3, (size_t)s->w * n, s->ppm) == (size_t)s->w * n ? 0 : -1;
    /* a simulated sensor: a scene drifting right by 3 pixels a frame, a bright disc, and
     * shot-like noise from a small LCG */
    for (r = 0; r < n; r++) {
        uint8_t *row = strip + (size_t)r * s->w * 3;
        int yy = y + r;
        for (x = 0; x < s->w; x++) {
            int xs = x + 3 * s->frame, dx = x - s->w / 2, dy = yy - s->h / 2, c;
            int disc = dx * dx + dy * dy < (s->h / 4) * (s->h / 4);
            int base[3];
            base[0] = (xs * 255 / (s->w + 1)) ^ ((yy / 16) & 1 ? 0x30 : 0);
            base[1] = (yy * 255 / (s->h + 1) + xs / 8) & 255;
            base[2] = 128 + ((xs / 24 + yy / 24) & 1 ? 60 : -60);
            for (c = 0; c < 3; c++) {
                int v;
                s->noise = s->noise * 1664525u + 1013904223u;
                v = (disc ? 230 : base[c]) + (int)((s->noise >> 24) % 17) - 8;
                row[x * 3 + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
    }
    return 0;
}

/* ---- output: the encoder's callback ---- */

typedef struct sink {
    FILE *f;                    /* NULL: count only */
    size_t bytes;
    uint8_t *copy;              /* -c: the JPEG kept for the receiving-side check */
    size_t copy_size, copy_cap;
} sink;

static int sink_write(void *user, const uint8_t *data, size_t n)
{
    sink *s = (sink *)user;
    if (s->f && fwrite(data, 1, n, s->f) != n)
        return -1;
    if (s->copy) {
        if (n > s->copy_cap - s->copy_size)
            return -1;
        memcpy(s->copy + s->copy_size, data, n);
        s->copy_size += n;
    }
    s->bytes += n;
    return 0;
}

/* The receiving side: strip decodes, plain and purified with the table, must agree. */
static int check_two_pass(const uint8_t *jpg, size_t n, const uint16_t table[64], int w, int rows,
                          uint8_t *a, uint8_t *b)
{
    fdj_decoder *plain = fdj_decoder_new(), *pur = fdj_decoder_new();
    fdj_decode_options opt;
    int st, got_a = 0, got_b = 0, ok = 1;
    fdj_decode_options_init(&opt);
    opt.purify_count = 1;
    memcpy(opt.purify[0], table, sizeof opt.purify[0]);
    if (!plain || !pur || fdj_decoder_open(plain, jpg, n, NULL) != FDJ_OK ||
        fdj_decoder_open(pur, jpg, n, &opt) != FDJ_OK)
        ok = 0;
    while (ok) {
        st = fdj_decoder_read_rows(plain, a, (ptrdiff_t)w * 3, rows, &got_a);
        if (st == FDJ_OK)
            st = fdj_decoder_read_rows(pur, b, (ptrdiff_t)w * 3, rows, &got_b);
        if (st != FDJ_OK || got_a != got_b || memcmp(a, b, (size_t)got_a * w * 3) != 0)
            ok = 0;
        if (got_a == 0)
            break;
    }
    fdj_decoder_free(plain);
    fdj_decoder_free(pur);
    return ok;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static int usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [-t TABLE.txt] [-s 444|420] [-r MCUS] [-k ROWS] [-c] in.ppm out_prefix\n"
            "       %s [-t TABLE.txt] [-s 444|420] [-r MCUS] [-k ROWS] [-c] [-w] -S WxH -n N "
            "[out_prefix]\n",
            prog, prog);
    return 2;
}

int main(int argc, char **argv)
{
    const char *table_path = NULL, *sub = "444", *in_path = NULL, *prefix = NULL;
    int restart = 0, strip_rows = 16, frames_wanted = 0, sim_w = 0, sim_h = 0, write_raw = 0;
    int check = 0, i, frame = 0, st = 0, rc = 0, checked_ok = 0;
    uint16_t table[64];
    source src;
    uint8_t *strip = NULL, *chk_a = NULL, *chk_b = NULL;
    size_t total_bytes = 0, enc_memory = 0, strip_bytes = 0;
    double t_encode = 0;
    sink out;
    memcpy(table, default_fd_table, sizeof table);
    memset(&src, 0, sizeof src);
    memset(&out, 0, sizeof out);
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-t") && i + 1 < argc)
            table_path = argv[++i];
        else if (!strcmp(argv[i], "-s") && i + 1 < argc)
            sub = argv[++i];
        else if (!strcmp(argv[i], "-r") && i + 1 < argc)
            restart = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-k") && i + 1 < argc)
            strip_rows = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-n") && i + 1 < argc)
            frames_wanted = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-S") && i + 1 < argc) {
            if (sscanf(argv[++i], "%dx%d", &sim_w, &sim_h) != 2)
                return usage(argv[0]);
        } else if (!strcmp(argv[i], "-w"))
            write_raw = 1;
        else if (!strcmp(argv[i], "-c"))
            check = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return usage(argv[0]);
        else
            break;
    }
    if (sim_w) {
        if (argc - i > 1 || sim_w < 1 || sim_h < 1 || sim_w > 65535 || sim_h > 65535 ||
            frames_wanted < 1 || (write_raw && argc - i != 1))
            return usage(argv[0]);
        prefix = argc - i == 1 ? argv[i] : NULL;
    } else {
        if (argc - i != 2)
            return usage(argv[0]);
        in_path = argv[i];
        prefix = argv[i + 1];
    }
    if (strip_rows < 1 || strip_rows > 65535 || (strcmp(sub, "444") && strcmp(sub, "420")))
        return usage(argv[0]);
    if (table_path && read_table(table_path, table)) {
        fprintf(stderr, "%s: cannot read 64 table entries 1..65535\n", table_path);
        return 2;
    }
    if (in_path) {
        src.ppm = fopen(in_path, "rb");
        if (!src.ppm) {
            perror(in_path);
            return 1;
        }
    } else {
        src.w = sim_w;
        src.h = sim_h;
        src.noise = 2024;
    }
    for (;;) {
        fdj_encode_params p;
        fdj_encoder *enc = NULL;
        char msg[FDJ_MSG_SIZE] = "", name[4096];
        FILE *raw = NULL;
        size_t size = 0;
        int y, r = frame_start(&src, frames_wanted);
        double t0;
        if (r <= 0) {
            if (r < 0) {
                fprintf(stderr, "%s: frame %d is not an 8-bit binary PPM\n", in_path, frame);
                rc = 1;
            }
            break;
        }
        /* the calls a firmware needs: defaults, geometry, table, sampling, restart markers */
        fdj_encode_params_init(&p);
        p.width = src.w;
        p.height = src.h;
        p.in_color = FDJ_IN_RGB;
        p.num_qtables = 1; /* one table for every component: the FD grid everywhere */
        memcpy(p.qtable[0], table, sizeof table);
        p.comp_qtable[0] = p.comp_qtable[1] = p.comp_qtable[2] = 0;
        if (!strcmp(sub, "420"))
            p.h_samp[0] = p.v_samp[0] = 2; /* 4:2:0 moves the chroma grid: 4:4:4 keeps it */
        p.restart_interval = restart;
        /* fixed buffers: one strip (grown only if a file's frame is wider) */
        if ((size_t)src.w * 3 * strip_rows > strip_bytes) {
            free(strip);
            strip_bytes = (size_t)src.w * 3 * strip_rows;
            strip = (uint8_t *)malloc(strip_bytes);
            free(chk_a);
            free(chk_b);
            chk_a = check ? (uint8_t *)malloc(strip_bytes) : NULL;
            chk_b = check ? (uint8_t *)malloc(strip_bytes) : NULL;
            if (!strip || (check && (!chk_a || !chk_b))) {
                fprintf(stderr, "out of memory\n");
                rc = 1;
                break;
            }
        }
        if (check) {
            /* the receiver's copy of the JPEG: at most ~2 bytes per pixel with these tables */
            size_t cap = (size_t)src.w * src.h * 3 + 65536;
            if (cap > out.copy_cap) {
                free(out.copy);
                out.copy = (uint8_t *)malloc(cap);
                out.copy_cap = out.copy ? cap : 0;
            }
            out.copy_size = 0;
        }
        out.f = NULL;
        if (prefix) {
            snprintf(name, sizeof name, "%s%04d.jpg", prefix, frame);
            out.f = fopen(name, "wb");
            if (!out.f) {
                perror(name);
                rc = 1;
                break;
            }
            if (write_raw) {
                snprintf(name, sizeof name, "%s%04d.ppm", prefix, frame);
                raw = fopen(name, "wb");
                if (!raw || fprintf(raw, "P6\n%d %d\n255\n", src.w, src.h) < 0) {
                    perror(name);
                    rc = 1;
                    break;
                }
            }
        }
        out.bytes = 0;
        enc_memory = fdj_encode_stream_memory(&p);
        t0 = now();
        st = fdj_encode_begin(&enc, &p, sink_write, &out, NULL, 0, msg);
        for (y = 0; st == FDJ_OK && y < src.h; y += strip_rows) {
            int n = src.h - y < strip_rows ? src.h - y : strip_rows;
            double t1 = now();
            if (frame_rows(&src, strip, y, n)) {
                fprintf(stderr, "%s: frame %d is not an 8-bit binary PPM (short data)\n", in_path,
                        frame);
                st = -100;
                break;
            }
            t0 += now() - t1; /* the sensor's own time is not the encoder's */
            if (raw && fwrite(strip, 1, (size_t)n * src.w * 3, raw) != (size_t)n * src.w * 3)
                st = -101;
            if (st == FDJ_OK)
                st = fdj_encode_rows(enc, strip, n, (ptrdiff_t)src.w * 3, 3, 1);
        }
        if (st == FDJ_OK)
            st = fdj_encode_end(enc, &size);
        t_encode += now() - t0;
        if (st != FDJ_OK && st > -100)
            fprintf(stderr, "frame %d: %s (%s)\n", frame, enc ? fdj_encoder_message(enc) : msg,
                    fdj_status_string(st));
        fdj_encoder_free(enc);
        if (raw && fclose(raw) != 0)
            st = -101;
        if (out.f && fclose(out.f) != 0)
            st = -101;
        out.f = NULL;
        if (st == -101)
            perror(prefix);
        if (st != FDJ_OK) {
            rc = 1;
            break;
        }
        if (check) {
            if (!out.copy || !check_two_pass(out.copy, out.copy_size, table, src.w, strip_rows,
                                             chk_a, chk_b)) {
                fprintf(stderr, "frame %d: purify with the sensor's table changed the pixels\n",
                        frame);
                rc = 1;
                break;
            }
            checked_ok++;
        }
        total_bytes += size;
        frame++;
        src.frame = frame;
    }
    if (src.ppm)
        fclose(src.ppm);
    free(strip);
    free(chk_a);
    free(chk_b);
    free(out.copy);
    if (rc == 0 && frame > 0) {
        double mp = (double)src.w * src.h * frame / 1e6;
        printf("sensor: %d frames of %dx%d, strips of %d rows, %s, restart %d\n", frame, src.w,
               src.h, strip_rows, sub, restart);
        printf("encode: %.1f frames/s, %.1f Mpixel/s, %.0f bytes/frame\n",
               t_encode > 0 ? frame / t_encode : 0.0, t_encode > 0 ? mp / t_encode : 0.0,
               (double)total_bytes / frame);
        printf("memory: %zu bytes of encoder state + %zu bytes of strip buffer\n", enc_memory,
               strip_bytes);
        if (check)
            printf("check: %d of %d frames decode to the same pixels plain and purified\n",
                   checked_ok, frame);
    }
    return rc;
}
