/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipwarpctl: call a method on sipwarp's control socket.
 *   sipwarpctl [-s SOCKET] [--json] METHOD [name=value ...]
 * A value is taken as JSON when it parses as JSON, else as a string;
 * name=@FILE reads the value from FILE. Exit 0 on a result, 1 on a
 * JSON-RPC error, 2 on a usage or connection problem.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: sipwarpctl [-s SOCKET] [--json] METHOD [name=value ...]\n"
		"  -s, --socket PATH  control socket (default /run/sipwarp/ctl.sock)\n"
		"  -j, --json         print the raw JSON-RPC response\n"
		"  name=@FILE         take the value from FILE\n"
		"Methods: dialplan.reload [path=FILE], dialplan.dump, dialplan.explain "
		"message=@FILE [src=ADDR:PORT],\n"
		"         ruleset.info, stats.get, gateway.list, ars.sessions [reset=true|ROUTE "
		"[pattern=N]],\n"
		"         log.level level=debug [type=user.sipwarp.dp], core.shutdown\n");
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) {
		if (f)
			fclose(f);
		return NULL;
	}
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf != NULL) {
		n = (long)fread(buf, 1, (size_t)n, f);
		buf[n] = '\0';
	}
	fclose(f);
	return buf;
}

/* Print a result for a person: objects as "key: value" lines, text as is. */
static void
print_readable(json_t *v, int indent)
{
	const char *key;
	json_t *val;
	size_t i;

	if (json_is_string(v)) {
		fputs(json_string_value(v), stdout);
		if (strlen(json_string_value(v)) == 0 ||
		    json_string_value(v)[strlen(json_string_value(v)) - 1] != '\n')
			putchar('\n');
		return;
	}
	if (json_is_object(v)) {
		json_object_foreach(v, key, val)
		{
			printf("%*s%s:", indent, "", key);
			if (json_is_object(val) || json_is_array(val)) {
				putchar('\n');
				print_readable(val, indent + 2);
			} else if (json_is_string(val) && strchr(json_string_value(val), '\n')) {
				putchar('\n');
				fputs(json_string_value(val), stdout);
			} else {
				char *s = json_dumps(val, JSON_ENCODE_ANY);

				printf(" %s\n", json_is_string(val) ? json_string_value(val) : s);
				free(s);
			}
		}
		return;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, val)
		{
			printf("%*s- [%zu]\n", indent, "", i);
			print_readable(val, indent + 2);
		}
		return;
	}
	char *s = json_dumps(v, JSON_ENCODE_ANY);
	printf("%*s%s\n", indent, "", s);
	free(s);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = "/run/sipwarp/ctl.sock";
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int raw = 0, c, fd, rc;
	json_t *req, *params, *resp, *err;
	json_error_t jerr;
	char *text, buf[1 << 16];
	size_t len = 0;
	ssize_t r;

	while ((c = getopt_long(argc, argv, "+s:jh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'j':
			raw = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	params = json_object();
	for (int i = optind + 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		json_t *v;

		if (eq == NULL || eq == argv[i]) {
			fprintf(stderr, "sipwarpctl: \"%s\": expected name=value\n", argv[i]);
			return 2;
		}
		*eq = '\0';
		if (eq[1] == '@') {
			char *file = slurp(eq + 2);

			if (file == NULL) {
				fprintf(stderr, "sipwarpctl: cannot read %s: %s\n", eq + 2,
					strerror(errno));
				return 2;
			}
			v = json_string(file);
			free(file);
		} else {
			v = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
			if (v == NULL)
				v = json_string(eq + 1);
		}
		json_object_set_new(params, argv[i], v);
	}
	req = json_pack("{s:s, s:s, s:o, s:i}", "jsonrpc", "2.0", "method", argv[optind], "params",
			params, "id", 1);
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "sipwarpctl: cannot connect to %s: %s\n", path, strerror(errno));
		return 2;
	}
	if (send(fd, text, strlen(text), MSG_NOSIGNAL) < 0 || send(fd, "\n", 1, MSG_NOSIGNAL) < 0) {
		fprintf(stderr, "sipwarpctl: cannot send: %s\n", strerror(errno));
		return 2;
	}
	free(text);
	while (len < sizeof(buf) - 1 && (r = recv(fd, buf + len, sizeof(buf) - 1 - len, 0)) > 0) {
		len += (size_t)r;
		if (memchr(buf, '\n', len) != NULL)
			break;
	}
	close(fd);
	buf[len] = '\0';
	resp = json_loads(buf, 0, &jerr);
	if (resp == NULL) {
		fprintf(stderr, "sipwarpctl: bad answer from sipwarp: %s\n", jerr.text);
		return 2;
	}
	err = json_object_get(resp, "error");
	if (raw) {
		fputs(buf, stdout);
	} else if (err != NULL) {
		json_t *data = json_object_get(err, "data");

		fprintf(stderr, "error %d: %s\n", (int)json_integer_value(json_object_get(err, "code")),
			json_string_value(json_object_get(err, "message")));
		if (data != NULL && json_is_string(json_object_get(data, "diagnostics")))
			fputs(json_string_value(json_object_get(data, "diagnostics")), stderr);
		else if (data != NULL) {
			char *s = json_dumps(data, JSON_ENCODE_ANY);
			fprintf(stderr, "%s\n", s);
			free(s);
		}
	} else {
		print_readable(json_object_get(resp, "result"), 0);
	}
	rc = err != NULL ? 1 : 0;
	json_decref(resp);
	return rc;
}
