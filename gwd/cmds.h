/* gwd's command words besides serving.  main.c hands the arguments after the
 * word (argv[0] is its first argument) to one of these; each returns the exit
 * status: 0 success, 1 failure (message on stderr), 2 usage error. */
#ifndef GWD_CMDS_H
#define GWD_CMDS_H

int gwd_cmd_users(int argc, char **argv); /* users add|del|list [--db PATH]  (users_cmd.c) */
int gwd_cmd_keys(int argc, char **argv);  /* keys add|del|list [--db PATH]   (users_cmd.c) */

int gwd_cmd_store(int argc, char **argv);  /* store copy --db PATH --store URL (store_cmd.c) */

#endif
