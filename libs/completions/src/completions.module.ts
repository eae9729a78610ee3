import { Module } from '@nestjs/common';
import { PipelineModule } from '@switchyard/pipeline';
import { ChatService } from './chat/chat.service';
import { MessagesService } from './messages/messages.service';

@Module({
  imports: [PipelineModule],
  providers: [ChatService, MessagesService],
  exports: [ChatService, MessagesService],
})
export class CompletionsModule {}
