# syntax=docker/dockerfile:1
# An app image written the way a user writes theirs: their own base and CMD, plus the two marked
# lines that put secrets-entrypoint in front of the command. The init container renders
# /run/secrets/app.env; the entrypoint sources it, checks SECRETS_REQUIRED and execs CMD.
FROM docker.io/library/node:24-bookworm-slim
WORKDIR /app
COPY examples/app/report.mjs ./report.mjs

# --- the two lines a user adds to their own Dockerfile ----------------------------------------------
COPY --chmod=0755 init/entrypoint.sh /usr/local/bin/secrets-entrypoint
ENTRYPOINT ["/usr/local/bin/secrets-entrypoint"]
# ------------------------------------------------------------------------------------------------------

# Non-root, in the group that the init container's files are shared with (0440, gid 10001). The app
# image does not declare /run/secrets as a VOLUME: the init image owns it (docs/outputs.md, "Ownership of /run/secrets").
USER 1000:10001
CMD ["node", "/app/report.mjs"]
