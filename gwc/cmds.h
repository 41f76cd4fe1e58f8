/* gwc's subcommands.  main.c parses the command word and hands the remaining
 * arguments (argv[0] is the subcommand's first argument) to one of these.
 * Each returns the process exit status: 0 success, 1 a negative answer or
 * invalid input (errors printed to stderr), 2 usage error. */
#ifndef GWC_CMDS_H
#define GWC_CMDS_H

int gwc_cmd_check(int argc, char **argv);   /* gwc check FILE...            (main.c)    */
int gwc_cmd_compile(int argc, char **argv); /* gwc compile FILE... -o OUT   (main.c)    */
int gwc_cmd_inspect(int argc, char **argv); /* gwc inspect BLOB             (inspect.c) */
int gwc_cmd_match(int argc, char **argv);   /* gwc match BLOB METHOD PATH [--host H] (match.c) */
int gwc_cmd_diff(int argc, char **argv);    /* gwc diff A B                 (diff.c)    */

#endif
