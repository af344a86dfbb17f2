/** `GET /users/:id`, `PATCH /users/:id` and `GET /cache/stats`. */
import { Body, Controller, Get, NotFoundException, Param, ParseIntPipe, Patch } from "@nestjs/common";
import { UsersService } from "./users.service.ts";

@Controller()
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get("users/:id")
  async findOne(@Param("id", ParseIntPipe) id: number) {
    const user = await this.users.findOne(id);
    if (user === null) throw new NotFoundException(`no user ${id}`);
    return user;
  }

  @Patch("users/:id")
  rename(@Param("id", ParseIntPipe) id: number, @Body() body: { name: string }) {
    return this.users.rename(id, body.name);
  }

  @Get("cache/stats")
  stats() {
    return this.users.stats();
  }
}
