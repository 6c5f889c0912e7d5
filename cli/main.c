/* main.c — the mtcr-rules command line (SPEC 3).  Uses only include/mtcr.h;
 * this is the only place that prints or exits. */
#include <mtcr.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_FINDINGS 1
#define EXIT_USAGE 2
#define EXIT_REJECTED 3

static const char *prog = "mtcr-rules";

static const char usage_main[] =
    "usage: mtcr-rules COMMAND [OPTIONS] [ARGS]\n"
    "\n"
    "Check transfer records against missile nonproliferation commitments written as rules.\n"
    "\n"
    "commands:\n"
    "  check [OPTIONS] [INPUT...]   evaluate records (CSV or JSON Lines, gzip or not; '-' = stdin)\n"
    "  test [PATH...]               run the test blocks of rule files (default: the standard library)\n"
    "  lint PATH...                 parse and type-check rule files; print every diagnostic\n"
    "  schema [--record NAME]       print the columns a record type expects, as a CSV header\n"
    "  --version                    print the version\n"
    "  --help                       this help; COMMAND --help for a command's options\n"
    "\n"
    "exit status of check, the first that applies: 2 usage or rule errors, unreadable input,\n"
    "a missing required column; 1 a verdict at or above --fail-on; 3 some records were\n"
    "rejected as bad input; 0 otherwise.\n";

static const char usage_check[] =
    "usage: mtcr-rules check [OPTIONS] [INPUT...]\n"
    "\n"
    "Evaluate every record of the inputs (CSV with a header row, or JSON Lines; .gz read\n"
    "transparently; '-' or nothing is standard input) and print the records with findings.\n"
    "\n"
    "  -r, --rules PATH        rule file or directory, repeatable; default: the standard library\n"
    "  -I DIR                  add a module search path (searched before the built-in library)\n"
    "      --record NAME       record type; default: the one whose required columns are all present\n"
    "      --format FMT        text, jsonl or csv; default: text on a terminal, jsonl otherwise\n"
    "      --all               print every record, not only those with findings or errors\n"
    "      --fail-on SEV       exit 1 when a verdict is at least SEV (notify, review, deny,\n"
    "                          prohibit; default deny)\n"
    "      --explain           attach the evidence of each finding\n"
    "      --summary           print totals by commitment and by state at the end\n"
    "      --engine ENGINE     auto or interp (the JIT is not part of this build; auto interprets)\n"
    "      --verify            compare the interpreter with the JIT (needs the JIT: not in this build)\n"
    "      --threads N         accepted for compatibility; evaluation is single-threaded in this build\n"
    "  -h, --help              this help\n"
    "\n"
    "exit status: 2 usage or rule errors, unreadable input or a missing required column;\n"
    "1 some verdict at or above --fail-on; 3 some records were rejected; 0 otherwise.\n";

static const char usage_test[] =
    "usage: mtcr-rules test [OPTIONS] [PATH...]\n"
    "\n"
    "Run the `test` blocks of the rule files (default: the built-in standard library).\n"
    "Prints one line per test and a closing line 'N passed, N failed'.\n"
    "\n"
    "  -I DIR        add a module search path\n"
    "  -v, --verbose also print the passing tests\n"
    "  -h, --help    this help\n"
    "\n"
    "exit status: 0 all pass; 1 some test failed; 2 the rules do not compile.\n";

static const char usage_lint[] =
    "usage: mtcr-rules lint [OPTIONS] PATH...\n"
    "\n"
    "Parse and type-check rule files or directories and print every diagnostic as\n"
    "file:line:col: error: message, with the source line, a caret and a hint.\n"
    "\n"
    "  -I DIR      add a module search path\n"
    "  --dump      also print the compiled program of each record type (its steps)\n"
    "  -h, --help  this help\n"
    "\n"
    "exit status: 0 no errors; 2 errors.\n";

static const char usage_schema[] =
    "usage: mtcr-rules schema [OPTIONS]\n"
    "\n"
    "Print the columns a record type reads, as a CSV header: every field's column, in the\n"
    "order the record declares them.\n"
    "\n"
    "  -r, --rules PATH   rule file or directory (default: the standard library)\n"
    "  -I DIR             add a module search path\n"
    "      --record NAME  the record type; default: every record type, each under a # line\n"
    "  -h, --help         this help\n";

/* After a usage error: the command's usage line (the first line of its usage text)
 * and where its help is ("Try 'mtcr-rules check --help'."). */
static void put_usage_hint(const char *usage)
{
    const char *nl = strchr(usage, '\n');
    fprintf(stderr, "%.*s\n", nl ? (int)(nl - usage) : (int)strlen(usage), usage);
    const char *p = usage + strlen("usage: mtcr-rules ");
    const char *e = strchr(p, ' ');
    if (strncmp(p, "COMMAND", 7) == 0)
        fprintf(stderr, "Try '%s --help'.\n", prog);
    else
        fprintf(stderr, "Try '%s %.*s --help'.\n", prog, e ? (int)(e - p) : (int)strlen(p), p);
}

static void die_usage(const char *usage, const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: ", prog);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    put_usage_hint(usage);
    exit(EXIT_USAGE);
}

/* getopt_long found an unknown option (c == '?') or an option without its argument
 * (c == ':'); opterr is 0 and the option strings start with ':', so we say which. */
static int bad_option(const char *usage, char **argv, int c)
{
    const char *arg = argv[optind - 1];
    if (c == ':')
        fprintf(stderr, "%s: option '%s' needs an argument\n", prog, arg);
    else if (optopt)
        fprintf(stderr, "%s: unknown option '-%c'\n", prog, optopt);
    else
        fprintf(stderr, "%s: unknown option '%s'\n", prog, arg);
    put_usage_hint(usage);
    return EXIT_USAGE;
}

/* Arguments collected from argv: storage on the caller's stack, as many slots as
 * argv has, so nothing is allocated and nothing can leak on an early exit. */
typedef struct {
    const char **v;
    size_t n, cap;
} strlist;

#define STRLIST(name, argc)                                                                        \
    const char *name##_slots[(argc) + 1];                                                          \
    strlist name = {name##_slots, 0, (size_t)(argc) + 1}

static void push(strlist *l, const char *s)
{
    if (l->n < l->cap) /* cap is argc + 1: every argument fits */
        l->v[l->n++] = s;
}

/* Compile and print every diagnostic; NULL (after printing) on errors. */
static mtcr_rules *compile_or_report(strlist *inc, strlist *paths, size_t *nerrors)
{
    mtcr_options o = {inc->v, inc->n};
    mtcr_diagnostics *d = NULL;
    mtcr_rules *r = mtcr_compile_paths(&o, paths->v, paths->n, &d);
    int color = isatty(2) && !getenv("NO_COLOR");
    size_t n = mtcr_diagnostics_count(d);
    for (size_t i = 0; i < n; i++) {
        char *s = mtcr_diagnostic_format(d, i, color);
        if (s) {
            fputs(s, stderr);
            mtcr_free(s);
        }
    }
    if (nerrors)
        *nerrors = mtcr_diagnostics_errors(d);
    if (!r && n == 0)
        fprintf(stderr, "%s: out of memory while compiling the rules\n", prog);
    else if (!r)
        fprintf(stderr, "%s: %zu error%s\n", prog, mtcr_diagnostics_errors(d),
                mtcr_diagnostics_errors(d) == 1 ? "" : "s");
    mtcr_diagnostics_free(d);
    return r;
}

static int write_stdout(void *ud, const char *data, size_t len)
{
    (void)ud;
    return fwrite(data, 1, len, stdout) == len ? 0 : -1;
}

/* ---- check --------------------------------------------------------------------------- */

enum { OPT_RECORD = 256, OPT_FORMAT, OPT_ALL, OPT_FAIL_ON, OPT_ENGINE, OPT_VERIFY, OPT_EXPLAIN,
       OPT_THREADS, OPT_SUMMARY };

static int cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"rules", required_argument, 0, 'r'},   {"record", required_argument, 0, OPT_RECORD},
        {"format", required_argument, 0, OPT_FORMAT}, {"all", no_argument, 0, OPT_ALL},
        {"fail-on", required_argument, 0, OPT_FAIL_ON}, {"engine", required_argument, 0, OPT_ENGINE},
        {"verify", no_argument, 0, OPT_VERIFY}, {"explain", no_argument, 0, OPT_EXPLAIN},
        {"threads", required_argument, 0, OPT_THREADS}, {"summary", no_argument, 0, OPT_SUMMARY},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    STRLIST(rules, argc);
    STRLIST(inc, argc);
    STRLIST(inputs, argc);
    mtcr_check_options co = {0};
    int format = -1, fail_on = MTCR_DENY, summary = 0, c;
    co.engine = MTCR_ENGINE_AUTO;
    while ((c = getopt_long(argc, argv, ":r:I:h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': push(&rules, optarg); break;
        case 'I': push(&inc, optarg); break;
        case OPT_RECORD: co.record = optarg; break;
        case OPT_FORMAT:
            if (strcmp(optarg, "text") == 0) format = MTCR_FORMAT_TEXT;
            else if (strcmp(optarg, "jsonl") == 0) format = MTCR_FORMAT_JSONL;
            else if (strcmp(optarg, "csv") == 0) format = MTCR_FORMAT_CSV;
            else die_usage(usage_check, "unknown format '%s' (text, jsonl or csv)", optarg);
            break;
        case OPT_ALL: co.all = 1; break;
        case OPT_FAIL_ON:
            fail_on = mtcr_severity_parse(optarg);
            if (fail_on < MTCR_NOTIFY)
                die_usage(usage_check, "unknown severity '%s' (notify, review, deny or prohibit)", optarg);
            break;
        case OPT_ENGINE:
            if (strcmp(optarg, "auto") == 0 || strcmp(optarg, "interp") == 0)
                co.engine = strcmp(optarg, "auto") == 0 ? MTCR_ENGINE_AUTO : MTCR_ENGINE_INTERP;
            else if (strcmp(optarg, "jit") == 0)
                die_usage(usage_check, "%s: the JIT engine is not part of this build; use --engine interp", optarg);
            else
                die_usage(usage_check, "unknown engine '%s' (auto, interp or jit)", optarg);
            break;
        case OPT_VERIFY:
            die_usage(usage_check, "%s", "--verify compares the interpreter with the JIT, which is not part of this build");
            break;
        case OPT_EXPLAIN: co.explain = 1; break;
        case OPT_THREADS: {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 1024)
                die_usage(usage_check, "--threads takes a number from 1 to 1024, not '%s'", optarg);
            co.threads = (int)n;
            break;
        }
        case OPT_SUMMARY: summary = 1; break;
        case 'h': fputs(usage_check, stdout); return 0;
        default: return bad_option(usage_check, argv, c);
        }
    }
    for (int i = optind; i < argc; i++)
        push(&inputs, argv[i]);
    if (inputs.n == 0)
        push(&inputs, "-");
    /* every input must be readable before anything is evaluated (SPEC 3: exit 2) */
    for (size_t i = 0; i < inputs.n; i++)
        if (strcmp(inputs.v[i], "-") != 0 && access(inputs.v[i], R_OK) != 0) {
            fprintf(stderr, "%s: cannot read '%s': %s\n", prog, inputs.v[i], strerror(errno));
            return EXIT_USAGE;
        }
    co.format = format >= 0 ? (mtcr_format)format : isatty(1) ? MTCR_FORMAT_TEXT : MTCR_FORMAT_JSONL;
    co.color = co.format == MTCR_FORMAT_TEXT && isatty(1) && !getenv("NO_COLOR");
    co.with_file = inputs.n > 1;
    mtcr_rules *r = compile_or_report(&inc, &rules, NULL);
    if (!r)
        return EXIT_USAGE;
    mtcr_stats *st = mtcr_stats_new();
    if (!st) {
        fprintf(stderr, "%s: out of memory\n", prog);
        mtcr_rules_free(r);
        return EXIT_USAGE;
    }
    int status = 0;
    for (size_t i = 0; i < inputs.n && status == 0; i++) {
        char *err = NULL;
        co.no_header = i > 0; /* one csv header for the whole output */
        if (mtcr_check_file(r, &co, inputs.v[i], write_stdout, NULL, st, &err) != 0) {
            fflush(stdout);
            fprintf(stderr, "%s: %s\n", prog, err ? err : "error");
            mtcr_free(err);
            status = EXIT_USAGE;
        }
    }
    if (status == 0) {
        char *s = mtcr_stats_format(r, st, summary, co.color);
        FILE *out = co.format == MTCR_FORMAT_TEXT ? stdout : stderr;
        if (s) {
            if (co.format == MTCR_FORMAT_TEXT)
                fputc('\n', out);
            fputs(s, out);
            mtcr_free(s);
        }
        int high = 0;
        for (int k = fail_on; k <= MTCR_PROHIBIT; k++)
            high |= mtcr_stats_verdicts(st, (mtcr_severity)k) > 0;
        status = high ? EXIT_FINDINGS : mtcr_stats_rejected(st) ? EXIT_REJECTED : 0;
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "%s: cannot write the output: %s\n", prog, strerror(errno));
        status = EXIT_USAGE;
    }
    mtcr_stats_free(st);
    mtcr_rules_free(r);
    return status;
}

/* ---- test ---------------------------------------------------------------------------------- */

typedef struct {
    int verbose;
    long passed, failed;
} test_ctx;

static void on_test(void *ud, const mtcr_test_result *t)
{
    test_ctx *c = ud;
    if (t->passed) {
        c->passed++;
        if (c->verbose)
            printf("PASS  %s:%d  %s\n", t->file, t->line, t->name);
    } else {
        c->failed++;
        printf("FAIL  %s:%d  %s\n      %s\n", t->file, t->line, t->name, t->failure);
    }
}

static int cmd_test(int argc, char **argv)
{
    static const struct option opts[] = {{"verbose", no_argument, 0, 'v'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    STRLIST(inc, argc);
    STRLIST(paths, argc);
    test_ctx tc = {0};
    int c;
    while ((c = getopt_long(argc, argv, ":I:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'I': push(&inc, optarg); break;
        case 'v': tc.verbose = 1; break;
        case 'h': fputs(usage_test, stdout); return 0;
        default: return bad_option(usage_test, argv, c);
        }
    }
    for (int i = optind; i < argc; i++)
        push(&paths, argv[i]);
    mtcr_rules *r = compile_or_report(&inc, &paths, NULL);
    if (!r)
        return EXIT_USAGE;
    long failed = mtcr_run_tests(r, on_test, &tc);
    mtcr_rules_free(r);
    if (failed < 0) {
        fprintf(stderr, "%s: out of memory while running the tests\n", prog);
        return EXIT_USAGE;
    }
    printf("%ld passed, %ld failed\n", tc.passed, tc.failed);
    return tc.failed ? 1 : 0;
}

/* ---- lint ------------------------------------------------------------------------------------ */

static int cmd_lint(int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, 0, 'h'}, {"dump", no_argument, 0, 'd'},
                                         {0, 0, 0, 0}};
    STRLIST(inc, argc);
    STRLIST(paths, argc);
    int c, dump = 0;
    while ((c = getopt_long(argc, argv, ":I:h", opts, NULL)) != -1) {
        switch (c) {
        case 'I': push(&inc, optarg); break;
        case 'd': dump = 1; break;
        case 'h': fputs(usage_lint, stdout); return 0;
        default: return bad_option(usage_lint, argv, c);
        }
    }
    for (int i = optind; i < argc; i++)
        push(&paths, argv[i]);
    if (paths.n == 0)
        die_usage(usage_lint, "%s", "lint needs at least one rule file or directory");
    size_t nerr = 0;
    mtcr_rules *r = compile_or_report(&inc, &paths, &nerr);
    int status = r ? 0 : EXIT_USAGE;
    if (r)
        fprintf(stderr, "%s: no errors\n", prog);
    for (size_t i = 0; r && dump && i < mtcr_record_count(r); i++) {
        char *text = mtcr_disassemble(r, i);
        if (!text) {
            fprintf(stderr, "%s: out of memory\n", prog);
            status = EXIT_USAGE;
            break;
        }
        fputs(text, stdout);
        mtcr_free(text);
    }
    mtcr_rules_free(r);
    return status;
}

/* ---- schema ------------------------------------------------------------------------------------ */

static void print_header(const mtcr_rules *r, int rec)
{
    size_t n = mtcr_record_field_count(r, rec);
    for (size_t i = 0; i < n; i++) {
        mtcr_field_info f;
        mtcr_record_field(r, rec, i, &f);
        const char *col = f.column;
        int quote = strpbrk(col, ",\"\r\n") != NULL;
        if (i)
            putchar(',');
        if (!quote) {
            fputs(col, stdout);
            continue;
        }
        putchar('"');
        for (const char *p = col; *p; p++) {
            if (*p == '"')
                putchar('"');
            putchar(*p);
        }
        putchar('"');
    }
    putchar('\n');
}

static int cmd_schema(int argc, char **argv)
{
    static const struct option opts[] = {{"rules", required_argument, 0, 'r'},
                                         {"record", required_argument, 0, OPT_RECORD},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    STRLIST(inc, argc);
    STRLIST(rules, argc);
    const char *record = NULL;
    int c;
    while ((c = getopt_long(argc, argv, ":r:I:h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': push(&rules, optarg); break;
        case 'I': push(&inc, optarg); break;
        case OPT_RECORD: record = optarg; break;
        case 'h': fputs(usage_schema, stdout); return 0;
        default: return bad_option(usage_schema, argv, c);
        }
    }
    if (optind < argc)
        die_usage(usage_schema, "unexpected argument '%s'", argv[optind]);
    mtcr_rules *r = compile_or_report(&inc, &rules, NULL);
    if (!r)
        return EXIT_USAGE;
    int status = 0;
    if (record) {
        int k = mtcr_record_find(r, record);
        if (k < 0) {
            fprintf(stderr, "%s: unknown record type '%s' (the rules declare: ", prog, record);
            for (size_t i = 0; i < mtcr_record_count(r); i++)
                fprintf(stderr, "%s%s", i ? ", " : "", mtcr_record_name(r, i));
            fputs(mtcr_record_count(r) ? ")\n" : "none)\n", stderr);
            status = EXIT_USAGE;
        } else {
            print_header(r, k);
        }
    } else if (mtcr_record_count(r) == 1) {
        print_header(r, 0);
    } else {
        for (size_t i = 0; i < mtcr_record_count(r); i++) {
            printf("# record %s\n", mtcr_record_name(r, i));
            print_header(r, (int)i);
        }
    }
    mtcr_rules_free(r);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_main, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("mtcr-rules %s\n", mtcr_version());
        return 0;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_main, stdout);
        return 0;
    }
    argv++;
    argc--;
    opterr = 0; /* bad_option says what was wrong, with the command's usage line */
    if (strcmp(cmd, "check") == 0)
        return cmd_check(argc, argv);
    if (strcmp(cmd, "test") == 0)
        return cmd_test(argc, argv);
    if (strcmp(cmd, "lint") == 0)
        return cmd_lint(argc, argv);
    if (strcmp(cmd, "schema") == 0)
        return cmd_schema(argc, argv);
    if (strcmp(cmd, "fmt") == 0 || strcmp(cmd, "compile") == 0)
        fprintf(stderr, "%s: '%s' is not part of this build\n", prog, cmd);
    else
        fprintf(stderr, "%s: unknown command '%s' (check, test, lint or schema)\n", prog, cmd);
    fprintf(stderr, "Try '%s --help'.\n", prog);
    return EXIT_USAGE;
}
