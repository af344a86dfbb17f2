-- CreateTable
-- COLLATE NOCASE is added by hand (Prisma has no attribute for it), as apps do for case-insensitive emails.
CREATE TABLE "Session" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "email" TEXT NOT NULL COLLATE NOCASE,
    "code" TEXT COLLATE NOCASE,
    "os" TEXT NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "Session_email_key" ON "Session"("email");

-- CreateIndex
CREATE UNIQUE INDEX "Session_code_key" ON "Session"("code");
