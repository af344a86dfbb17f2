-- CreateTable
CREATE TABLE `Session` (
    `id` CHAR(36) NOT NULL,
    `email` VARCHAR(191) NOT NULL,
    `code` CHAR(8) NULL,
    `os` VARCHAR(191) NOT NULL,

    UNIQUE INDEX `Session_email_key`(`email`),
    UNIQUE INDEX `Session_code_key`(`code`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
